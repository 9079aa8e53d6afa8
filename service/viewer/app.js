// schedlab's viewer: a client of the public API, nothing more. No build step, no dependencies.
// Every request carries the API key from the tab's sessionStorage, so images and the event stream are fetched
// (EventSource cannot send an Authorization header) and shown from blob URLs.

const KEY_STORAGE = "schedlab.apiKey";
const COLOURS = ["#e4572e", "#17bebb", "#ffc914", "#76b041", "#a06cd5", "#f49cbb", "#2e86ab", "#f18f01",
  "#c5d86d", "#e36397", "#5bc0eb", "#9bc53d"];
const TERMINAL = new Set(["succeeded", "failed", "canceled"]);
// A transparent pixel: an <img> waiting for its frame shows its placeholder background, not a broken-image icon.
const EMPTY = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7";

const $ = (selector, root = document) => root.querySelector(selector);
// A sweep axis (steps, guidance_scale, seed) is one value or a list of values.
const axisValues = (axis) => (Array.isArray(axis) ? axis : [axis]);
const axisText = (axis) => axisValues(axis).join(", ");
const isSweep = (spec) => [spec.steps, spec.guidance_scale, spec.seed].some(Array.isArray);
const cellCount = (spec) => [spec.steps, spec.guidance_scale, spec.seed].reduce((n, a) => n * axisValues(a).length, 1);
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(name, value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
};

// ----------------------------------------------------------------------------------------------------------
// The API

class ApiError extends Error {
  constructor(status, problem) {
    const detail = problem?.detail || problem?.title || `HTTP ${status}`;
    super(detail);
    this.status = status;
    this.problem = problem;
  }
}

const api = {
  key: () => sessionStorage.getItem(KEY_STORAGE) || "",
  headers(extra = {}) {
    const headers = { ...extra };
    if (api.key()) headers.Authorization = `Bearer ${api.key()}`;
    return headers;
  },
  async json(path, options = {}) {
    const response = await fetch(path, { ...options, headers: api.headers(options.headers) });
    const body = await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(response.status, body);
    return body;
  },
};

const blobUrls = new Map();
function imageUrl(url) {
  // One fetch per file, shared by every <img> and canvas that shows it.
  if (!blobUrls.has(url)) {
    blobUrls.set(url, fetch(url, { headers: api.headers() }).then((response) => {
      if (!response.ok) throw new ApiError(response.status, null);
      return response.blob();
    }).then((blob) => URL.createObjectURL(blob)));
  }
  return blobUrls.get(url);
}

async function openFile(url) {
  // Links to files need the key too: fetch, then open what came back.
  const target = window.open("", "_blank");
  const response = await fetch(url, { headers: api.headers() });
  const blob = await response.blob();
  target.location = URL.createObjectURL(blob);
}

function fileLink(url, text) {
  return el("a", {
    href: url, target: "_blank", rel: "noopener", text,
    onclick: (event) => { if (api.key()) { event.preventDefault(); openFile(url); } },
  });
}

// Server-Sent Events over fetch: the wire format parsed line by line.
async function* readEvents(path, lastEventId, signal) {
  const headers = api.headers({ Accept: "text/event-stream" });
  if (lastEventId) headers["Last-Event-ID"] = lastEventId;
  const response = await fetch(path, { headers, signal, cache: "no-store" });
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let event = { id: null, event: "message", data: [] };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let newline;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, newline).replace(/\r$/, "");
      buffer = buffer.slice(newline + 1);
      if (line === "") {
        if (event.data.length) yield { id: event.id, type: event.event, data: JSON.parse(event.data.join("\n")) };
        event = { id: null, event: "message", data: [] };
      } else if (!line.startsWith(":")) {
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "data") event.data.push(text);
        else if (field === "id") event.id = text;
        else if (field === "event") event.event = text;
      }
    }
  }
}

// ----------------------------------------------------------------------------------------------------------
// Routing: "/" submits and lists, "/comparisons/{id}" watches

let watcher = null;

function route() {
  if (watcher) watcher.stop();
  const match = location.pathname.match(/^\/comparisons\/([^/]+)$/);
  $("#home").hidden = Boolean(match);
  $("#watch").hidden = !match;
  if (match) {
    watcher = new Watcher(decodeURIComponent(match[1]));
    watcher.start();
  } else {
    showHome();
  }
}

function navigate(path) {
  history.pushState(null, "", path);
  route();
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-nav]");
  if (link && !event.metaKey && !event.ctrlKey) {
    event.preventDefault();
    navigate(link.getAttribute("href"));
  }
});
window.addEventListener("popstate", route);

// ----------------------------------------------------------------------------------------------------------
// Home: the submit form and recent comparisons

let catalog = null; // the chosen model's catalog (GET /v1/schedulers?model=), or the generic one
let catalogModel = null; // the model `catalog` was loaded for ("" = the generic catalog)
const chosen = []; // [{entry, config: string}]

async function showHome() {
  document.title = "schedlab: compare schedulers";
  loadRecent();
  await loadModels();
  await loadCatalog();
}

// The models live workers serve (GET /v1/models), the deployment's default first chosen. Asked again on every
// visit, since workers come and go; with none registered yet, jobs go to the default model.
async function loadModels() {
  const picker = $("#model-picker");
  const previous = picker.value;
  let served = [];
  try {
    served = (await api.json("/v1/models")).data;
  } catch (error) {
    $("#submit-error").textContent = `Could not load the models: ${error.message}`;
  }
  const options = served.map((model) => el("option", {
    value: model.name,
    text: `${model.name} (${model.family}, ${model.default_size}²${model.default ? ", default" : ""})`,
  }));
  if (!options.length) options.push(el("option", { value: "", text: "the default model (no worker yet)" }));
  picker.replaceChildren(...options);
  const keep = served.find((model) => model.name === previous) || served.find((model) => model.default);
  if (keep) picker.value = keep.name;
}

// The chosen model's schedulers; chosen ones it cannot run are dropped, the defaults picked on first load.
async function loadCatalog() {
  const model = $("#model-picker").value;
  if (catalog && catalogModel === model) {
    renderSchedulerList();
    return;
  }
  try {
    const query = model ? `?model=${encodeURIComponent(model)}` : "";
    catalog = (await api.json(`/v1/schedulers${query}`)).data;
    catalogModel = model;
  } catch (error) {
    $("#submit-error").textContent = `Could not load the schedulers: ${error.message}`;
    return;
  }
  const runnable = (id) => catalog.find((entry) => entry.id === id && entry.available);
  const kept = chosen.map((choice) => ({ ...choice, entry: runnable(choice.entry.id) })).filter((c) => c.entry);
  // The defaults: the experiment's favourites, or a flow-matching model's own solvers when it runs none of them.
  for (const ids of [["euler", "euler_a", "dpmpp_2m_karras", "heun"], ["flow_euler", "flow_dpmpp_2m"]]) {
    if (!kept.length) kept.push(...ids.filter(runnable).map((id) => ({ entry: runnable(id), config: "" })));
  }
  chosen.splice(0, chosen.length, ...kept);
  renderSchedulerList();
}

function renderSchedulerList() {
  const filter = $("#scheduler-filter").value.trim().toLowerCase();
  const list = $("#scheduler-list");
  list.replaceChildren();
  for (const entry of catalog) {
    const haystack = [entry.id, entry.display_name, entry.class_name, ...entry.aliases].join(" ").toLowerCase();
    if (filter && !haystack.includes(filter)) continue;
    const isChosen = chosen.some((c) => c.entry.id === entry.id);
    const badges = [];
    if (Object.keys(entry.preset_config).length) badges.push(el("span", { class: "badge", text: "preset" }));
    if (entry.stochastic) badges.push(el("span", { class: "badge stochastic", text: "stochastic" }));
    if (entry.order === 2) badges.push(el("span", { class: "badge", text: "2 calls/step" }));
    const title = entry.available ? [entry.class_name, entry.description].filter(Boolean).join(" — ")
      : `unavailable: ${entry.unavailable_reason}`;
    list.append(el("label", { class: `scheduler ${entry.available ? "" : "disabled"}`, title },
      el("input", {
        type: "checkbox", value: entry.id, checked: isChosen, disabled: !entry.available,
        onchange: (event) => toggleScheduler(entry, event.target.checked),
      }),
      el("span", { class: "name", text: entry.display_name }), ...badges));
  }
  renderChosen();
}

function toggleScheduler(entry, on) {
  const index = chosen.findIndex((c) => c.entry.id === entry.id);
  if (on && index < 0) chosen.push({ entry, config: "" });
  if (!on && index >= 0) chosen.splice(index, 1);
  renderChosen();
}

function renderChosen() {
  $("#scheduler-count").textContent = `${chosen.length} chosen`;
  const box = $("#scheduler-chosen");
  box.replaceChildren(...chosen.map((choice, index) => el("div", { class: "chip" },
    el("span", { class: "swatch", style: `background:${COLOURS[index % COLOURS.length]}` }),
    el("span", { text: choice.entry.display_name }),
    el("input", {
      class: "config", value: choice.config, placeholder: "config overrides, JSON: {\"use_karras_sigmas\": true}",
      title: `keys: ${Object.keys(choice.entry.config_keys).join(", ")}`,
      oninput: (event) => { choice.config = event.target.value; },
    }),
    el("button", {
      type: "button", class: "remove", text: "×", title: "remove",
      onclick: () => { toggleScheduler(choice.entry, false); renderSchedulerList(); },
    }))));
}

function specFromForm(form) {
  const data = new FormData(form);
  const number = (name) => (data.get(name) === "" ? undefined : Number(data.get(name)));
  const spec = {
    model: data.get("model") || undefined,
    prompt: data.get("prompt"),
    seed: number("seed"),
    num_images: number("num_images"),
    steps: number("steps"),
    guidance_scale: number("guidance_scale"),
    width: number("width"),
    height: number("height"),
    frames: data.get("frames"),
    decoder: data.get("decoder"),
    schedulers: chosen.map((choice) => {
      const text = choice.config.trim();
      let config = {};
      if (text) {
        try { config = JSON.parse(text); } catch {
          throw new Error(`${choice.entry.display_name}: config overrides are not valid JSON`);
        }
      }
      return { name: choice.entry.id, config };
    }),
  };
  if (data.get("negative_prompt")) spec.negative_prompt = data.get("negative_prompt");
  const capture = String(data.get("capture_value")).trim();
  if (data.get("capture_mode") === "every") spec.capture = { every: Number(capture) };
  else spec.capture = { steps: capture.split(/[\s,]+/).filter(Boolean).map(Number) };
  for (const key of Object.keys(spec)) if (spec[key] === undefined) delete spec[key];
  return spec;
}

async function submit(event) {
  event.preventDefault();
  const error = $("#submit-error");
  error.textContent = "";
  try {
    if (!chosen.length) throw new Error("choose at least one scheduler");
    const job = await api.json("/v1/comparisons", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(specFromForm(event.target)),
    });
    navigate(`/comparisons/${job.id}`);
  } catch (failure) {
    const problems = failure.problem?.errors;
    error.textContent = problems ? problems.map((p) => `${p.field}: ${p.message}`).join("; ") : failure.message;
  }
}

async function loadRecent() {
  const list = $("#recent-list");
  try {
    const page = await api.json("/v1/comparisons?limit=15");
    list.replaceChildren(...page.data.map((job) => el("li", {},
      el("a", { href: `/comparisons/${job.id}`, "data-nav": "" },
        el("span", { class: `status ${job.status}`, text: job.status }),
        el("span", { class: "prompt", text: job.spec.prompt })),
      el("span", {
        class: "muted",
        text: [`${job.spec.schedulers.length} schedulers`, `${axisText(job.spec.steps)} steps`,
          isSweep(job.spec) ? `${cellCount(job.spec)} cells` : null, timeAgo(job.created_at)].filter(Boolean).join(" · "),
      }))));
    if (!page.data.length) list.replaceChildren(el("li", { class: "muted", text: "none yet" }));
  } catch (error) {
    list.replaceChildren(el("li", { class: "error", text: error.message }));
  }
}

function timeAgo(iso) {
  const seconds = (Date.now() - Date.parse(iso)) / 1000;
  if (seconds < 60) return "just now";
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}

// ----------------------------------------------------------------------------------------------------------
// Watch: one comparison, filled in from its event stream

function captureSteps(spec) {
  const wanted = new Set(spec.capture.steps ?? []);
  if (spec.capture.every) for (let s = spec.capture.every; s <= spec.steps; s += spec.capture.every) wanted.add(s);
  wanted.add(spec.steps);
  return [...wanted].sort((a, b) => a - b);
}

class Watcher {
  constructor(jobId) {
    this.jobId = jobId;
    this.abort = new AbortController();
    this.lastEventId = null;
    this.status = null;
    this.ended = false; // the stream delivered its terminal event
  }

  stop() { this.abort.abort(); }

  async start() {
    try {
      this.job = await api.json(`/v1/comparisons/${this.jobId}`);
    } catch (error) {
      $("#job-prompt").textContent = error.status === 404 ? "No such comparison" : "Could not load the comparison";
      $("#job-meta").textContent = error.message;
      return;
    }
    this.setUp();
    this.listen();
  }

  setUp() {
    const { spec } = this.job;
    this.spec = spec;
    this.sweep = isSweep(spec);
    this.cells = cellCount(spec);
    // A scheduler's progress counts its steps over every cell, as the worker reports it.
    const stepsTotal = axisValues(spec.steps).reduce((sum, steps) => sum + steps, 0) * (this.cells / axisValues(spec.steps).length);
    this.schedulers = spec.schedulers.map((choice, index) => ({
      index, name: choice.name, colour: COLOURS[index % COLOURS.length],
      done: 0, total: stepsTotal, state: "waiting", frames: new Map(), result: null, cellsDone: 0,
    }));
    // Progress rows: the schedulers, then the reference runs (a sweep's), added by their first step event.
    this.rows = [...this.schedulers];
    this.cellResults = [];
    document.title = `schedlab: ${spec.prompt}`;
    $("#job-prompt").textContent = spec.prompt;
    const size = spec.width || spec.height ? `${spec.width ?? "model"}×${spec.height ?? "model"}` : "model's size";
    $("#job-meta").textContent = [
      `seed ${axisText(spec.seed)}`, `${spec.num_images} images`, `${axisText(spec.steps)} steps`,
      `guidance ${axisText(spec.guidance_scale)}`, this.sweep ? `${this.cells} cells` : null,
      size, `${spec.frames} frames, ${spec.decoder} decoder`,
      spec.negative_prompt ? `negative: “${spec.negative_prompt}”` : null,
    ].filter(Boolean).join(" · ");
    $("#cancel-button").onclick = () => this.cancel();
    // A sweep shows its grids, curves and ranking; the per-step views describe a single cell.
    for (const section of document.querySelectorAll("#watch .single-cell")) section.hidden = this.sweep;
    $("#sweep").hidden = !this.sweep;
    if (this.sweep) this.setUpSweep();
    else this.setUpSingleCell();
    this.applyJob(this.job);
    this.renderProgress();
  }

  setUpSingleCell() {
    const { spec } = this;
    this.steps = captureSteps(spec);
    const slider = $("#step-slider");
    slider.max = String(this.steps.length - 1);
    slider.value = "0";
    slider.oninput = () => { this.followLatest = false; this.renderStrip(); this.renderAB(); };
    this.followLatest = true;
    $("#image-picker").replaceChildren(...Array.from({ length: spec.num_images }, (_, i) =>
      el("option", { value: String(i), text: `${i + 1} (seed ${spec.seed + i})` })));
    $("#image-picker").onchange = () => { this.renderStrip(); this.renderAB(); };
    for (const [id, pick] of [["#ab-a", 0], ["#ab-b", Math.min(1, this.schedulers.length - 1)]]) {
      const select = $(id);
      select.replaceChildren(...this.schedulers.map((s) => el("option", { value: String(s.index), text: `${s.index + 1}. ${s.name}` })));
      select.value = String(pick);
      select.onchange = () => this.renderAB();
    }
    this.buildGrids();
    this.renderStrip();
    this.renderAB();
  }

  setUpSweep() {
    $("#sweep-meta").textContent = `${this.cells} cells × ${this.spec.schedulers.length} schedulers`;
    $("#sweep-waiting").hidden = false;
    $("#sweep-waiting").textContent = "The grids, the error-vs-NFE plot and the ranking appear when the sweep has finished.";
    $("#sweep-grids").replaceChildren();
    $("#sweep-plot").hidden = true;
    for (const table of ["#sweep-curves", "#sweep-ranking", "#sweep-cells"]) $(`${table} tbody`).replaceChildren();
  }

  row(index, name, total) {
    // The reference runs report progress under the index after the schedulers'.
    if (!this.rows[index]) {
      this.rows[index] = {
        index, name, colour: "#8c95a6", done: 0, total, state: "waiting", frames: new Map(), result: null,
        cellsDone: 0, reference: true,
      };
    }
    return this.rows[index];
  }

  async listen() {
    // Reconnects after a dropped connection, resuming after the last event seen.
    // A finished job's stream replays every event and closes: that is how a finished comparison is shown too.
    while (!this.abort.signal.aborted && !this.ended) {
      try {
        const path = `/v1/comparisons/${this.jobId}/events`;
        for await (const event of readEvents(path, this.lastEventId, this.abort.signal)) {
          this.lastEventId = event.id;
          this.handle(event);
        }
      } catch (error) {
        if (this.abort.signal.aborted) return;
        if (error instanceof ApiError && error.status < 500) { this.showError(error.message); return; }
      }
      if (!this.ended) await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }

  handle({ type, data }) {
    if (type === "queued" || type === "started") {
      if (type === "queued" && data.error) {  // a retry after a worker died: start over
        for (const s of this.rows) { s.done = 0; s.state = "waiting"; s.frames.clear(); s.result = null; s.cellsDone = 0; }
        this.cellResults = [];
        if (this.sweep) this.renderSweepCells();
        else this.buildGrids();
      }
      this.setStatus(type === "started" ? "running" : "queued");
    } else if (type === "step") {
      const s = this.row(data.scheduler_index, data.scheduler, data.of);
      s.done = data.step;
      s.total = data.of;
      s.state = s.reference && s.done === s.total ? "done" : "running";
      s.sigma = data.sigma;
      if (!this.sweep && data.frames.length) this.addFrames(s, data.step, data.frames);
      this.renderProgress();
    } else if (type === "scheduler_done" && this.sweep) {
      const s = this.rows[data.scheduler_index];
      s.cellsDone += 1;
      if (data.status === "canceled") s.state = "canceled";
      else if (s.cellsDone === this.cells) s.state = "done";
      this.cellResults.push(data);
      this.renderProgress();
      this.renderSweepCells();
    } else if (type === "scheduler_done") {
      const s = this.schedulers[data.scheduler_index];
      s.result = data;
      s.state = data.status === "canceled" ? "canceled" : "done";
      const byStep = new Map();
      for (const frame of data.frames) {
        if (!byStep.has(frame.step)) byStep.set(frame.step, []);
        byStep.get(frame.step)[frame.image_index] = frame.url;
      }
      for (const [step, urls] of byStep) if (!s.frames.has(step)) this.addFrames(s, step, urls);
      this.renderProgress();
      this.renderResults();
    } else if (TERMINAL.has(type)) {
      this.ended = true;
      this.setStatus(type);
      if (data.error) this.showError(data.error);
      api.json(`/v1/comparisons/${this.jobId}`).then((job) => this.applyJob(job)).catch(() => {});
    }
  }

  applyJob(job) {
    this.job = job;
    this.setStatus(job.status);
    if (job.error && job.status === "failed") this.showError(job.error);
    const links = [];
    if (job.manifest_url) links.push(fileLink(job.manifest_url, "manifest.json"));
    if (job.contact_sheet_url) links.push(fileLink(job.contact_sheet_url, "contact sheet"));
    if (!this.sweep) {  // a sweep's per-cell grids are linked from its cells table
      for (const result of job.results) if (result.grid_url) links.push(fileLink(result.grid_url, `grid: ${result.scheduler}`));
    }
    for (const [name, url] of Object.entries(job.charts ?? {})) links.push(fileLink(url, `chart: ${name}`));
    if (job.sweep) {
      links.push(fileLink(job.sweep.answer_url, "sweep answer.json"));
      if (job.sweep.plot_url) links.push(fileLink(job.sweep.plot_url, "error-vs-NFE plot"));
      for (const grid of job.sweep.grids) links.push(fileLink(grid.url, `X/Y grid: ${gridTitle(grid)}`));
    }
    $("#job-links").replaceChildren(...links);
    if (this.sweep) {
      if (job.sweep) this.renderSweep(job.sweep);
      else if (TERMINAL.has(job.status)) $("#sweep-waiting").textContent = `No grids, curves or ranking: the sweep ${job.status}.`;
    } else if (job.manifest_url && TERMINAL.has(job.status)) {
      fetchManifest(job.manifest_url).then((manifest) => this.renderHeatmap(manifest.similarity))
        .catch((error) => console.warn("manifest", error));
    }
  }

  setStatus(status) {
    this.status = status;
    const badge = $("#job-status");
    badge.textContent = status;
    badge.className = `status ${status}`;
    $("#cancel-button").hidden = !(status === "queued" || status === "running");
  }

  showError(message) {
    const box = $("#job-error");
    box.hidden = false;
    box.textContent = message;
  }

  async cancel() {
    $("#cancel-button").disabled = true;
    try {
      const job = await api.json(`/v1/comparisons/${this.jobId}/cancel`, { method: "POST" });
      this.setStatus(job.status === "running" ? "canceling" : job.status);
    } catch (error) {
      this.showError(error.message);
    } finally {
      $("#cancel-button").disabled = false;
    }
  }

  addFrames(s, step, urls) {
    s.frames.set(step, urls);
    urls.forEach((url, image) => {
      const cell = $(`#cell-${s.index}-${step}-${image}`);
      if (cell && url) show(cell, url);
    });
    if (this.followLatest) {
      // Follow the newest step every scheduler has reached, so the strip fills in as frames arrive.
      const latest = this.steps.filter((k) => this.schedulers.some((x) => x.frames.has(k))).length - 1;
      $("#step-slider").value = String(Math.max(0, latest));
    }
    this.renderStrip();
    this.renderAB();
  }

  buildGrids() {
    const grids = $("#grids");
    grids.replaceChildren(...this.schedulers.map((s) => {
      const head = el("tr", {}, el("th", { text: "" }), ...this.steps.map((k) => el("th", { text: String(k) })));
      const rows = Array.from({ length: this.spec.num_images }, (_, image) => el("tr", {},
        el("th", { text: `seed ${this.spec.seed + image}` }),
        ...this.steps.map((k) => el("td", {}, el("img", {
          id: `cell-${s.index}-${k}-${image}`, class: "frame pending", src: EMPTY,
          alt: `${s.name}, step ${k}, image ${image + 1}`,
        })))));
      return el("div", { class: "grid-card", "data-scheduler": String(s.index) },
        el("h4", {}, el("span", { class: "swatch", style: `background:${s.colour}` }), `${s.index + 1}. ${s.name}`),
        el("div", { class: "grid-scroll" }, el("table", { class: "grid" }, el("thead", {}, head), el("tbody", {}, ...rows))));
    }));
  }

  renderProgress() {
    $("#progress").replaceChildren(...this.rows.map((s) => {
      const share = s.total ? s.done / s.total : 0;
      let detail = "";
      if (this.sweep && !s.reference) detail = `${s.cellsDone} / ${this.cells} cells`;
      else if (s.result) detail = `${s.result.timings.wall_s.toFixed(2)} s · ${s.result.timings.unet_calls} UNet calls`;
      else if (s.state === "running" && s.sigma != null) detail = `σ ${s.sigma.toFixed(3)}`;
      return el("div", { class: `progress-row ${s.state}`, "data-scheduler": String(s.index) },
        el("span", { class: "name" }, el("span", { class: "swatch", style: `background:${s.colour}` }), s.name),
        el("span", { class: "bar" }, el("span", { style: `width:${(share * 100).toFixed(1)}%;background:${s.colour}` })),
        el("span", { class: "count", text: `${s.done} / ${s.total}` }),
        el("span", { class: "muted detail", text: detail }));
    }));
  }

  currentStep() { return this.steps[Number($("#step-slider").value)] ?? this.steps[0]; }
  currentImage() { return Number($("#image-picker").value || 0); }

  renderStrip() {
    const step = this.currentStep();
    $("#step-label").textContent = `${step} / ${this.spec.steps}`;
    const image = this.currentImage();
    $("#step-strip").replaceChildren(...this.schedulers.map((s) => {
      const url = s.frames.get(step)?.[image];
      const img = el("img", { class: "frame big pending", src: EMPTY, alt: `${s.name} at step ${step}` });
      if (url) show(img, url);
      return el("figure", { class: "strip-item" }, img,
        el("figcaption", {}, el("span", { class: "swatch", style: `background:${s.colour}` }), s.name,
          url ? null : el("span", { class: "muted", text: " (not yet)" })));
    }));
  }

  async renderAB() {
    const step = this.currentStep();
    const image = this.currentImage();
    const a = this.schedulers[Number($("#ab-a").value)];
    const b = this.schedulers[Number($("#ab-b").value)];
    if (!a || !b) return;
    $("#ab-caption-a").textContent = `A: ${a.name}, step ${step}`;
    $("#ab-caption-b").textContent = `B: ${b.name}, step ${step}`;
    const urlA = a.frames.get(step)?.[image];
    const urlB = b.frames.get(step)?.[image];
    const token = (this.abToken = (this.abToken ?? 0) + 1);
    const [imgA, imgB] = await Promise.all([urlA, urlB].map((url) => (url ? loadImage(url) : null)));
    if (token !== this.abToken) return; // a newer request took over
    const pixelsA = draw($("#ab-canvas-a"), imgA);
    const pixelsB = draw($("#ab-canvas-b"), imgB);
    const diffCanvas = $("#ab-canvas-diff");
    if (!pixelsA || !pixelsB || pixelsA.width !== pixelsB.width || pixelsA.height !== pixelsB.height) {
      draw(diffCanvas, null);
      $("#ab-stats").textContent = urlA && urlB ? "" : "waiting for both frames";
      return;
    }
    const diff = new ImageData(pixelsA.width, pixelsA.height);
    let total = 0;
    for (let i = 0; i < diff.data.length; i += 4) {
      for (let c = 0; c < 3; c += 1) {
        const d = Math.abs(pixelsA.data[i + c] - pixelsB.data[i + c]);
        total += d;
        diff.data[i + c] = Math.min(255, d * 4);
      }
      diff.data[i + 3] = 255;
    }
    diffCanvas.width = diff.width;
    diffCanvas.height = diff.height;
    diffCanvas.getContext("2d").putImageData(diff, 0, 0);
    const mean = total / (diff.width * diff.height * 3);
    $("#ab-stats").textContent = `mean |A − B| = ${mean.toFixed(1)} / 255`;
    $("#ab-view").dataset.ready = "true";
  }

  renderResults() {
    const results = this.schedulers.filter((s) => s.result);
    const body = $("#results-table tbody");
    const best = Math.min(...results.map((s) => s.result.emergence_step ?? Infinity));
    body.replaceChildren(...results.map((s) => {
      const r = s.result;
      const quality = (key) => (r.quality && key in r.quality ? `${Math.round(r.quality[key] * 100)} %` : "—");
      return el("tr", {},
        el("td", {}, el("span", { class: "swatch", style: `background:${s.colour}` }), s.name),
        el("td", { class: "muted", text: r.class_name }),
        el("td", { class: "num", text: r.timings.wall_s.toFixed(2) }),
        el("td", { class: "num", text: String(r.timings.unet_calls) }),
        el("td", { class: `num ${r.emergence_step === best ? "best" : ""}`, text: r.emergence_step ?? "—" }),
        el("td", { class: "num", text: quality("colour_match") }),
        el("td", { class: "num", text: quality("shape_match") }),
        el("td", {}, r.grid_url ? fileLink(r.grid_url, "grid.png") : null));
    }));
    this.renderConvergence();
  }

  renderConvergence() {
    const svg = $("#convergence-chart");
    const ns = "http://www.w3.org/2000/svg";
    const node = (tag, attrs, text) => {
      const n = document.createElementNS(ns, tag);
      for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
      if (text !== undefined) n.textContent = text;
      return n;
    };
    const curves = this.schedulers.filter((s) => s.result?.convergence.length);
    const left = 44, right = 150, top = 12, bottom = 34, width = 520, height = 260;
    const maxY = Math.max(0.05, ...curves.flatMap((s) => s.result.convergence.map(([, d]) => d)));
    const x = (step) => left + (step / this.spec.steps) * (width - left - right);
    const y = (d) => top + (1 - d / maxY) * (height - top - bottom);
    svg.replaceChildren();
    svg.append(node("line", { x1: left, y1: y(0), x2: width - right, y2: y(0), class: "axis" }));
    svg.append(node("line", { x1: left, y1: top, x2: left, y2: y(0), class: "axis" }));
    for (const t of [0, 0.5, 1]) {
      svg.append(node("text", { x: left - 6, y: y(t * maxY) + 4, class: "tick", "text-anchor": "end" }, (t * maxY).toFixed(2)));
      svg.append(node("line", { x1: left, y1: y(t * maxY), x2: width - right, y2: y(t * maxY), class: "gridline" }));
    }
    for (const step of [0, Math.round(this.spec.steps / 2), this.spec.steps]) {
      svg.append(node("text", { x: x(step), y: height - bottom + 16, class: "tick", "text-anchor": "middle" }, String(step)));
    }
    svg.append(node("text", { x: (left + width - right) / 2, y: height - 4, class: "tick", "text-anchor": "middle" }, "step"));
    curves.forEach((s, row) => {
      const points = s.result.convergence.map(([step, d]) => `${x(step).toFixed(1)},${y(d).toFixed(1)}`).join(" ");
      svg.append(node("polyline", { points, fill: "none", stroke: s.colour, "stroke-width": 2, class: "curve" }));
      for (const [step, d] of s.result.convergence) svg.append(node("circle", { cx: x(step), cy: y(d), r: 2.5, fill: s.colour }));
      svg.append(node("rect", { x: width - right + 12, y: top + row * 16, width: 10, height: 10, fill: s.colour }));
      svg.append(node("text", { x: width - right + 26, y: top + row * 16 + 9, class: "legend" }, s.name));
    });
  }

  renderHeatmap(similarity) {
    const box = $("#similarity-heatmap");
    if (!similarity?.matrix?.length) { box.replaceChildren(el("p", { class: "muted", text: "no finished schedulers" })); return; }
    const names = similarity.schedulers;
    // null = identical images (infinite PSNR): drawn as the most alike cell and labelled "same".
    const values = similarity.matrix.flatMap((row, i) => row.filter((v, j) => j !== i && v !== null));
    const low = Math.min(...values, 100), high = Math.max(...values, low + 1);
    const colour = (v) => {
      const t = v === null ? 1 : Math.max(0, Math.min(1, (v - low) / (high - low)));
      return `hsl(188, 60%, ${16 + 40 * t}%)`; // brighter = more alike
    };
    const table = el("table", { class: "heat" },
      el("tr", {}, el("th"), ...names.map((n, j) => el("th", { class: "col", title: n, text: String(j + 1) }))),
      ...similarity.matrix.map((row, i) => el("tr", {}, el("th", { class: "rowname", text: `${i + 1}. ${names[i]}` }),
        ...row.map((v, j) => el("td", {
          style: i === j ? "" : `background:${colour(v)}`, class: i === j ? "diag" : "",
          title: `${names[i]} vs ${names[j]}: ${v === null ? "identical" : `${v.toFixed(1)} dB`}`,
          text: i === j ? "—" : v === null ? "same" : v.toFixed(1),
        })))));
    box.replaceChildren(table, el("p", { class: "muted note", text: "brighter = more alike; same = identical images" }));
  }

  // -- a sweep: X/Y grids, the error-vs-NFE plot, cheapest cells, the ranking per budget, every cell -----------

  renderSweep(sweep) {
    const reference = sweep.reference;
    $("#sweep-meta").textContent = `${this.cells} cells × ${this.spec.schedulers.length} schedulers · reference `
      + `${reference.scheduler} at ${reference.steps} steps · tolerance: pixel RMSE ≤ ${sweep.tolerance}`;
    $("#sweep-waiting").hidden = true;
    // One X/Y grid per guidance and seed (x = steps, y = scheduler), its pages side by side.
    const groups = new Map();
    for (const grid of sweep.grids) {
      const key = `${grid.guidance_scale}/${grid.seed}`;
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(grid);
    }
    $("#sweep-grids").replaceChildren(...[...groups.values()].map((pages) => el("figure", { class: "sweep-grid" },
      el("figcaption", { text: `CFG ${pages[0].guidance_scale}, seed ${pages[0].seed}`
        + (pages.length > 1 ? ` (${pages.length} pages)` : "") }),
      el("div", { class: "pages" }, ...pages.map((grid) => linkedImage(grid.url, "xy-grid", `X/Y grid: ${gridTitle(grid)}`))))));
    if (sweep.plot_url) {
      $("#sweep-plot").hidden = false;
      $("#sweep-plot-box").replaceChildren(linkedImage(sweep.plot_url, "sweep-plot", "error vs. NFE plot"));
    }
    $("#sweep-curves tbody").replaceChildren(...sweep.curves.map((curve) => {
      const best = curve.cheapest_within_tolerance;
      const closest = Math.min(...curve.points.map((p) => p.image_distance));
      return el("tr", { "data-scheduler": String(curve.scheduler_index) },
        el("td", {}, swatch(this.colour(curve.scheduler_index)), curve.scheduler, curve.stochastic ? el("span", { class: "badge stochastic", text: "stochastic" }) : null),
        el("td", { class: "num", text: String(curve.guidance_scale) }),
        el("td", { class: "muted", text: curve.points.map((p) => `${p.steps} (${p.nfe}): ${p.image_distance.toFixed(3)}`).join(" · ") }),
        el("td", best
          ? { class: "best", text: `${best.steps} steps, ${best.nfe} NFE (${best.image_distance.toFixed(3)})` }
          : { class: "muted", text: `never (closest ${closest.toFixed(3)})` }));
    }));
    $("#sweep-ranking tbody").replaceChildren(...sweep.ranking.filter((entry) => entry.ranking.length).map((entry) => {
      const [top, ...others] = entry.ranking;
      return el("tr", {},
        el("td", { class: "num", text: String(entry.guidance_scale) }),
        el("td", { class: "num", text: String(entry.budget) }),
        el("td", {}, swatch(this.colour(top.scheduler_index)), top.scheduler),
        el("td", { class: "num", text: String(top.steps) }),
        el("td", { class: "num", text: top.image_distance.toFixed(4) }),
        el("td", { class: "muted", text: others.map((r, i) => `${i + 2}. ${r.scheduler} ${r.image_distance.toFixed(3)}`).join(" · ") }));
    }));
  }

  renderSweepCells() {
    const order = (r) => [r.cell?.guidance_scale ?? 0, r.cell?.seed ?? 0, r.scheduler_index, r.cell?.steps ?? 0];
    const rows = [...this.cellResults].sort((a, b) => {
      const [x, y] = [order(a), order(b)];
      return x.map((v, i) => v - y[i]).find((d) => d !== 0) ?? 0;
    });
    const number = (value, digits) => (value == null ? "—" : value.toFixed(digits));
    $("#sweep-cells tbody").replaceChildren(...rows.map((r) => el("tr", { class: r.status },
      el("td", {}, swatch(this.colour(r.scheduler_index)), r.scheduler),
      el("td", { class: "num", text: String(r.cell?.steps ?? "—") }),
      el("td", { class: "num", text: String(r.cell?.guidance_scale ?? "—") }),
      el("td", { class: "num", text: String(r.cell?.seed ?? "—") }),
      el("td", { class: "num", text: String(r.timings.unet_calls) }),
      el("td", { class: "num", text: r.timings.wall_s.toFixed(2) }),
      el("td", { class: "num", text: number(r.reference_distance?.image, 4) }),
      el("td", { class: "num", text: number(r.reference_distance?.latent, 4) }),
      el("td", {}, r.grid_url ? fileLink(r.grid_url, "grid") : null, " ",
        r.final_images.length ? fileLink(r.final_images[0], "final") : r.status))));
  }

  colour(index) { return COLOURS[index % COLOURS.length]; }
}

function swatch(colour) {
  return el("span", { class: "swatch", style: `background:${colour}` });
}

function gridTitle(grid) {
  return `CFG ${grid.guidance_scale}, seed ${grid.seed}` + (grid.pages > 1 ? `, page ${grid.page + 1} of ${grid.pages}` : "");
}

function linkedImage(url, className, alt) {
  // The worker's file, shown once loaded and opened full size on click.
  const img = el("img", { class: `${className} pending`, src: EMPTY, alt });
  show(img, url);
  const link = fileLink(url, "");
  link.append(img);
  return link;
}

async function fetchManifest(url) {
  // The manifest is Python's json.dumps, which writes -Infinity for values such as DPM-Solver's
  // lambda_min_clipped: JSON.parse refuses those, so they are read as null.
  const response = await fetch(url, { headers: api.headers() });
  if (!response.ok) throw new ApiError(response.status, null);
  const text = await response.text();
  return JSON.parse(text.replace(/([:[,]\s*)-?(?:Infinity|NaN)(?=\s*[,\]}])/g, "$1null"));
}

function loadImage(url) {
  return imageUrl(url).then((src) => new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = reject;
    img.src = src;
  }));
}

function show(img, url) {
  imageUrl(url).then((src) => {
    img.src = src;
    img.classList.remove("pending");
    img.dataset.loaded = "true";
  }).catch(() => img.classList.add("broken"));
}

function draw(canvas, img) {
  const context = canvas.getContext("2d", { willReadFrequently: true });
  if (!img) {
    canvas.width = 64;
    canvas.height = 64;
    context.clearRect(0, 0, 64, 64);
    return null;
  }
  canvas.width = img.naturalWidth;
  canvas.height = img.naturalHeight;
  context.drawImage(img, 0, 0);
  return context.getImageData(0, 0, canvas.width, canvas.height);
}

// ----------------------------------------------------------------------------------------------------------

function init() {
  const keyInput = $("#api-key");
  keyInput.value = api.key();
  keyInput.addEventListener("change", () => {
    if (keyInput.value) sessionStorage.setItem(KEY_STORAGE, keyInput.value);
    else sessionStorage.removeItem(KEY_STORAGE);
    blobUrls.clear();
    route();
  });
  $("#submit-form").addEventListener("submit", submit);
  $("#scheduler-filter").addEventListener("input", () => catalog && renderSchedulerList());
  $("#model-picker").addEventListener("change", loadCatalog);
  route();
}

init();
