"""The evaluation app: the evaluate and benchmark commands and the report's template."""

from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    name = "recognition.evaluation"
    label = "evaluation"
    verbose_name = "Evaluation"
