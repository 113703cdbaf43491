// The track list page: polls the job through the API, then draws the timeline as a bar of
// songs and gaps; a click on a segment shows its details.  Configuration comes from data-*
// attributes (the CSP allows no inline script).

const POLL_MS = 1000;

const root = document.getElementById("tracklist");
const apiUrl = root.dataset.apiUrl;
const songAdminUrl = root.dataset.songAdminUrl; // ends in /0/change/: the 0 is replaced by the id

function clock(seconds) {
  const total = Math.max(0, seconds);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = (total % 60).toFixed(1).padStart(4, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${secs}` : `${minutes}:${secs}`;
}

function songName(song) {
  return song.artist ? `${song.artist} - ${song.title}` : song.title;
}

function showDetails(segment, button) {
  for (const other of root.querySelectorAll(".timeline-segment.selected")) other.classList.remove("selected");
  button.classList.add("selected");
  const details = root.querySelector(".segment-details");
  details.replaceChildren();
  const rows = [["From", clock(segment.start_s)], ["To", clock(segment.end_s)]];
  if (segment.song) {
    rows.unshift(["Song", songName(segment.song)]);
    rows.push(["In the song", `${clock(segment.song_start_s)} to ${clock(segment.song_end_s)}`]);
    rows.push(["Speed", segment.speed_ratio === 1 ? "unchanged" : `${segment.speed_ratio.toFixed(3)}x`]);
    rows.push(["Confidence", `${segment.confidence} aligned hashes`]);
  } else {
    rows.unshift(["Song", "unknown (not in the catalogue)"]);
  }
  for (const [term, value] of rows) {
    const dt = document.createElement("dt");
    dt.textContent = term;
    const dd = document.createElement("dd");
    if (term === "Song" && segment.song) {
      const link = document.createElement("a");
      link.href = songAdminUrl.replace("/0/", `/${segment.song.song_id}/`);
      link.textContent = value;
      dd.append(link);
    } else {
      dd.textContent = value;
    }
    details.append(dt, dd);
  }
  details.hidden = false;
}

function drawTimeline(job) {
  const bar = root.querySelector(".timeline");
  const body = root.querySelector(".tracklist-segments tbody");
  bar.replaceChildren();
  body.replaceChildren();
  const duration = job.duration_s || 1;
  for (const segment of job.segments) {
    const button = document.createElement("button");
    button.type = "button";
    button.setAttribute("role", "listitem");
    button.className = "timeline-segment " + (segment.song ? "song" : "unknown");
    if (segment.song && segment.speed_ratio !== 1) button.classList.add("changed-speed");
    // CSSOM, not a style attribute: allowed by the CSP.
    button.style.flexBasis = `${(100 * (segment.end_s - segment.start_s)) / duration}%`;
    const label = segment.song ? songName(segment.song) : "unknown";
    button.textContent = label;
    button.title = `${label}: ${clock(segment.start_s)} to ${clock(segment.end_s)}`;
    button.addEventListener("click", () => showDetails(segment, button));
    bar.append(button);

    const row = body.insertRow();
    const speed = segment.song && segment.speed_ratio !== 1 ? segment.speed_ratio.toFixed(3) : "";
    const inSong = segment.song ? `${clock(segment.song_start_s)} - ${clock(segment.song_end_s)}` : "";
    for (const text of [clock(segment.start_s), clock(segment.end_s), label, inSong, speed, segment.song ? segment.confidence : ""]) {
      row.insertCell().textContent = text;
    }
  }
  const axis = root.querySelector(".timeline-axis");
  axis.replaceChildren(...[0, 0.25, 0.5, 0.75, 1].map((share) => {
    const tick = document.createElement("span");
    tick.textContent = clock(share * duration);
    return tick;
  }));
  root.querySelector(".tracklist-segments").hidden = false;
  root.querySelector(".tracklist-downloads").hidden = false;
}

async function poll() {
  const status = root.querySelector(".tracklist-status");
  let job;
  try {
    const response = await fetch(apiUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!response.ok) throw new Error(`the server answered ${response.status}`);
    job = await response.json();
  } catch (error) {
    status.textContent = `Could not read the job (${error.message}); trying again.`;
    setTimeout(poll, POLL_MS * 5);
    return;
  }
  root.querySelector(".tracklist-progress").value = job.progress;
  if (job.status === "done") {
    const songs = job.segments.filter((segment) => segment.song).length;
    status.textContent = `Done: ${songs} song(s) in ${clock(job.duration_s)}.`;
    root.querySelector(".tracklist-progress").hidden = true;
    drawTimeline(job);
  } else if (job.status === "failed") {
    status.textContent = `Failed: ${job.error}`;
    root.querySelector(".tracklist-progress").hidden = true;
  } else {
    status.textContent = job.status === "queued" ? "Queued: waiting for the worker." : `Running: ${Math.round(100 * job.progress)} %`;
    setTimeout(poll, POLL_MS);
  }
}

poll();
