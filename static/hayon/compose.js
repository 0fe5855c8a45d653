// The compose page. Counters and problems come from POST /api/posts/validate/ (the same
// rules the server applies when the post is created); images are signed by
// POST /api/posts/media/upload/ and sent straight to storage; the post or draft is created
// with POST /api/posts/. See docs/pages.md.
(function () {
  "use strict";

  const VALIDATE_DELAY = 350;
  const NEAR_LIMIT = 0.9;
  // Highlighted in previews the way the platforms show them: links, #tags and @mentions.
  const TOKENS = /(https?:\/\/[^\s<]+[^\s<.,:;"')\]!?])|(^|[\s(])(#[\p{L}\p{N}_]+)|(^|[\s(])(@[\w.-]+(?:@[\w.-]+)?)/gu;

  const state = {
    accounts: {},
    images: [],
    nextImage: 1,
    draftId: null,
    submitKey: newKey(),
    validateTimer: null,
    validateSeq: 0,
    lastReports: {},
    busy: false,
  };

  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return `${Date.now()}-${Math.random().toString(16).slice(2)}`;
  }

  // --- reading the form -------------------------------------------------------------------

  function selectedAccounts() {
    return $$("input[name=accounts]:checked").map((box) => Number(box.value));
  }

  function overrideText(accountId) {
    const box = $(`[data-override="${accountId}"]`);
    return box ? box.value : "";
  }

  function isScheduled() {
    return $("#when-later").checked;
  }

  function uploadedImages() {
    return state.images.filter((image) => image.status === "done");
  }

  function body(draft) {
    const accounts = selectedAccounts();
    const data = { text: $("#text").value, accounts, draft };

    const overrides = {};
    for (const id of accounts) {
      const text = overrideText(id);
      if (text.trim()) overrides[String(id)] = { text };
    }
    data.platform_content = overrides;
    data.media = uploadedImages().map((image) => ({ id: image.mediaId, alt: image.alt() }));

    if (isScheduled()) {
      const date = $("#schedule-date").value;
      const time = $("#schedule-time").value;
      if (date && time) data.scheduled_at = `${date}T${time}`;
      data.timezone = $("#schedule-timezone").value;
    } else {
      data.timezone = Hayon.browserZone();
    }
    return data;
  }

  // --- counters, problems and errors -----------------------------------------------------

  function renderCounter(accountId, report) {
    const counter = $(`[data-counter-for="${accountId}"]`);
    if (!counter) return;
    counter.hidden = !report;
    if (!report) return;

    const over = report.measured > report.limit;
    counter.classList.toggle("over", over);
    counter.classList.toggle("near", !over && report.measured >= report.limit * NEAR_LIMIT);
    counter.classList.toggle("ok", !over);
    counter.dataset.ok = String(report.ok);
    $(".count", counter).textContent = report.measured;
    $(".limit", counter).textContent = report.limit;
    $(".unit", counter).textContent = report.unit;
    $(".counter-state", counter).textContent = over
      ? `, ${report.measured - report.limit} over the limit`
      : `, ${report.limit - report.measured} left`;
  }

  function accountProblemList(accountId) {
    return $(`[data-problems-for="${accountId}"]`);
  }

  function addAccountProblem(accountId, problem) {
    const list = accountProblemList(accountId);
    if (!list) return false;
    const item = document.createElement("li");
    item.className = problem.severity === "warning" ? "warning-text" : "field-error";
    item.textContent = problem.message;
    list.append(item);
    return true;
  }

  // Show a problem about media[i] under that image too; return whether there is one.
  function placeNearImage(problem) {
    const media = /^media\[(\d+)\]/.exec(problem.field || "");
    const image = media && uploadedImages()[Number(media[1])];
    if (!image) return false;

    const target = $(".alt-error", image.element);
    const previous = target.hidden ? "" : target.textContent + " ";
    Hayon.setError(target, previous + problem.message);
    return true;
  }

  // Put a problem next to its cause; return false when there is no such place on the page.
  function placeProblem(problem) {
    const nearImage = placeNearImage(problem);
    if (problem.account !== undefined && problem.account !== null) {
      if (addAccountProblem(problem.account, problem)) return true;
    }
    if (nearImage) return true;

    const field = problem.field || "";

    const account = /^accounts\[(\d+)\]/.exec(field);
    if (account) {
      const id = selectedAccounts()[Number(account[1])];
      if (id !== undefined && addAccountProblem(id, problem)) return true;
    }

    const target = $(`[data-error-for="${CSS.escape(field)}"]`);
    if (target) {
      const previous = target.hidden ? "" : target.textContent + " ";
      Hayon.setError(target, previous + problem.message);
      return true;
    }
    return false;
  }

  function clearProblems() {
    Hayon.clearErrors($("#compose"));
    for (const list of $$("[data-problems-for]")) list.replaceChildren();
    for (const image of state.images) Hayon.setError($(".alt-error", image.element), "");
  }

  // Live checks show problems as the person types, but not "choose an account" nagging.
  const QUIET_WHILE_TYPING = new Set(["no_accounts"]);

  function showValidation(data) {
    clearProblems();
    state.lastReports = {};
    for (const report of data.accounts || []) state.lastReports[report.account] = report;

    for (const box of $$("input[name=accounts]")) {
      const id = Number(box.value);
      renderCounter(id, box.checked ? state.lastReports[id] : null);
    }
    for (const report of data.accounts || []) {
      for (const problem of report.problems) {
        addAccountProblem(report.account, problem);
        placeNearImage(problem);
      }
    }
    for (const problem of data.problems || []) {
      if (problem.account !== undefined || QUIET_WHILE_TYPING.has(problem.code)) continue;
      placeProblem(problem);
    }

    const note = $("#schedule-note");
    note.hidden = !(isScheduled() && data.scheduled_at);
    if (!note.hidden) {
      const at = new Date(data.scheduled_at);
      const dst = data.schedule_note ? " The time falls in a daylight-saving change: " : "";
      note.textContent =
        `Goes out ${at.toLocaleString()} in this browser's time (${at.toISOString()} UTC).` +
        (dst ? dst + data.schedule_note.replaceAll("_", " ") + "." : "");
    }
    renderPreviews();
  }

  function showSubmitErrors(data) {
    clearProblems();
    const problems = Hayon.problemsOf(data);
    for (const problem of problems) placeProblem(problem);
    const summary = $("#compose-errors");
    Hayon.showSummary(
      summary,
      problems.map((p) => p.message),
    );
    summary.focus();
  }

  function validateSoon() {
    clearTimeout(state.validateTimer);
    state.validateTimer = setTimeout(validate, VALIDATE_DELAY);
  }

  async function validate() {
    const seq = ++state.validateSeq;
    const answer = await Hayon.api("POST", "/api/posts/validate/", body(false));
    if (seq !== state.validateSeq) return; // a newer check is on its way

    if (answer.ok) {
      showValidation(answer.data);
    } else if (answer.status === 400) {
      clearProblems();
      for (const problem of Hayon.problemsOf(answer.data)) placeProblem(problem);
    }
  }

  // --- previews -------------------------------------------------------------------------

  function highlighted(text) {
    const fragment = document.createDocumentFragment();
    let last = 0;
    for (const match of text.matchAll(TOKENS)) {
      const lead = match[2] || match[4] || "";
      const token = match[1] || match[3] || match[5];
      const start = match.index + lead.length;
      fragment.append(text.slice(last, start));
      const span = document.createElement("span");
      span.className = match[1] ? "pv-link" : match[3] ? "pv-tag" : "pv-mention";
      span.textContent = token;
      fragment.append(span);
      last = start + token.length;
    }
    fragment.append(text.slice(last));
    return fragment;
  }

  function renderPreviews() {
    const container = $("#previews");
    container.replaceChildren();
    const accounts = selectedAccounts();
    $("#preview-empty").hidden = accounts.length > 0;

    for (const id of accounts) {
      const account = state.accounts[id];
      const report = state.lastReports[id];
      const text = overrideText(id).trim() ? overrideText(id) : $("#text").value;

      const card = document.createElement("article");
      card.className = `preview preview-${account.platform}`;
      card.setAttribute("aria-label", `Preview on ${account.label} for ${account.handle}`);

      const head = document.createElement("header");
      const platform = document.createElement("span");
      platform.className = `platform platform-${account.platform}`;
      platform.textContent = account.label;
      const handle = document.createElement("strong");
      handle.textContent = ` ${account.handle}`;
      head.append(platform, handle);

      const paragraph = document.createElement("p");
      paragraph.className = "preview-text";
      paragraph.append(highlighted(text));

      card.append(head, paragraph);

      const images = state.images.filter((image) => image.status !== "error");
      if (images.length) {
        const grid = document.createElement("div");
        grid.className = `preview-images count-${Math.min(images.length, 4)}`;
        for (const image of images) {
          const img = document.createElement("img");
          img.src = image.src;
          img.alt = image.alt();
          grid.append(img);
        }
        card.append(grid);
      }

      if (report && !report.ok) {
        const note = document.createElement("p");
        note.className = "field-error small";
        note.textContent = "This account will refuse the post as it is.";
        card.append(note);
      }
      container.append(card);
    }
  }

  // --- images ---------------------------------------------------------------------------

  function relabelImages() {
    state.images.forEach((image, index) => {
      const number = index + 1;
      $(".alt-label", image.element).textContent = `Alt text for image ${number}`;
      $(".remove-image", image.element).textContent = `Remove image ${number}`;
      $(".image-thumb", image.element).alt = `Image ${number}`;
    });
  }

  function addImageElement(name, src) {
    const element = $("#image-template").content.firstElementChild.cloneNode(true);
    const altId = `alt-${state.nextImage++}`;
    $(".alt", element).id = altId;
    $(".alt-label", element).htmlFor = altId;
    $(".image-name", element).textContent = name;
    $(".image-thumb", element).src = src;
    $("#images").append(element);
    return element;
  }

  function newImage(name, src) {
    const element = addImageElement(name, src);
    const image = {
      element,
      src,
      mediaId: null,
      status: "signing",
      request: null,
      alt: () => $(".alt", element).value,
    };
    $(".alt", element).addEventListener("input", () => {
      renderPreviews();
      validateSoon();
    });
    $(".remove-image", element).addEventListener("click", () => removeImage(image));
    state.images.push(image);
    relabelImages();
    return image;
  }

  function setUploadState(image, status, message, percent) {
    image.status = status;
    image.element.dataset.status = status;
    $(".upload-state", image.element).textContent = message;
    const bar = $("progress", image.element);
    if (percent !== undefined) bar.value = percent;
    bar.hidden = status === "done" || status === "error";
  }

  async function upload(image, file) {
    setUploadState(image, "signing", "Preparing upload…", 0);
    const signed = await Hayon.api("POST", "/api/posts/media/upload/", {
      filename: file.name,
      content_type: file.type,
      size: file.size,
      // Refused now when none of the ticked accounts takes this type or size.
      accounts: selectedAccounts(),
    });
    if (!signed.ok) {
      const message = Hayon.problemsOf(signed.data).map((p) => p.message).join(" ");
      setUploadState(image, "error", message || "The upload was refused.");
      return;
    }
    if (image.status === "removed") return;

    const target = signed.data;
    image.mediaId = target.media_id;
    setUploadState(image, "uploading", "Uploading… 0%", 0);

    const request = new XMLHttpRequest();
    image.request = request;
    request.open(target.method || "PUT", target.upload_url);
    for (const [name, value] of Object.entries(target.headers || {})) {
      request.setRequestHeader(name, value);
    }
    request.upload.addEventListener("progress", (event) => {
      if (!event.lengthComputable) return;
      const percent = Math.round((event.loaded / event.total) * 100);
      setUploadState(image, "uploading", `Uploading… ${percent}%`, percent);
    });
    request.addEventListener("load", () => {
      if (request.status >= 200 && request.status < 300) {
        setUploadState(image, "done", "Uploaded", 100);
        validateSoon();
      } else {
        const reason = (request.responseText || "").slice(0, 200);
        setUploadState(image, "error", `Upload failed (${request.status}). ${reason}`);
      }
    });
    request.addEventListener("error", () => {
      setUploadState(image, "error", "Upload failed: storage could not be reached.");
    });
    request.send(file);
  }

  function addFiles(files) {
    for (const file of files) {
      const image = newImage(file.name, URL.createObjectURL(file));
      image.objectUrl = image.src;
      upload(image, file);
    }
    renderPreviews();
  }

  function removeImage(image) {
    if (image.request && image.status === "uploading") image.request.abort();
    if (image.objectUrl) URL.revokeObjectURL(image.objectUrl);
    // An upload no post uses yet is deleted at once; one saved with the draft goes with the
    // next save, which leaves it out.
    if (image.mediaId && !image.saved) {
      Hayon.api("DELETE", `/api/posts/media/${image.mediaId}/`);
    }
    image.status = "removed";
    image.element.remove();
    state.images = state.images.filter((item) => item !== image);
    relabelImages();
    renderPreviews();
    validateSoon();
    $("#image-input").focus();
  }

  // --- schedule -------------------------------------------------------------------------

  function nextHour(zone) {
    const instant = new Date(Date.now() + 3600 * 1000);
    const parts = {};
    const format = new Intl.DateTimeFormat("en-CA", {
      timeZone: zone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      hourCycle: "h23",
    });
    for (const part of format.formatToParts(instant)) parts[part.type] = part.value;
    return { date: `${parts.year}-${parts.month}-${parts.day}`, time: `${parts.hour}:00` };
  }

  function syncWhen() {
    const later = isScheduled();
    $("#schedule-fields").hidden = !later;
    $("#submit-post").textContent = later ? "Schedule" : "Post now";
    if (later && !$("#schedule-date").value) {
      const next = nextHour($("#schedule-timezone").value);
      $("#schedule-date").value = next.date;
      $("#schedule-time").value = next.time;
    }
    validateSoon();
  }

  function chooseZone(zone) {
    const select = $("#schedule-timezone");
    if ($$("option", select).some((option) => option.value === zone)) select.value = zone;
  }

  // --- accounts -------------------------------------------------------------------------

  function syncAccount(box) {
    const id = box.value;
    const override = $(`[data-override-for="${id}"]`);
    if (override) override.hidden = !box.checked;
    if (!box.checked) {
      renderCounter(id, null);
      accountProblemList(id).replaceChildren();
    }
  }

  // --- saving ---------------------------------------------------------------------------

  function setBusy(busy, message) {
    state.busy = busy;
    $("#submit-post").disabled = busy;
    $("#save-draft").disabled = busy;
    $("#compose-status").textContent = message || "";
  }

  function uploadsPending() {
    return state.images.some((image) => ["signing", "uploading"].includes(image.status));
  }

  function content() {
    const { text, accounts, platform_content, media } = body(true);
    return { text, accounts, platform_content, media };
  }

  function schedule() {
    const { scheduled_at, timezone } = body(false);
    return scheduled_at ? { scheduled_at, timezone } : { timezone };
  }

  function problemsBeforeSaving(draft) {
    if (uploadsPending()) return "Wait until the images have finished uploading.";
    if (state.images.some((image) => image.status === "error")) {
      return "Remove the images that failed to upload, or add them again.";
    }
    if (!draft && isScheduled() && !body(false).scheduled_at) {
      return "Choose a date and a time, or post now.";
    }
    return "";
  }

  // Images saved with a draft belong to it: removing one later is part of the next save.
  function markImagesSaved() {
    for (const image of uploadedImages()) image.saved = true;
  }

  function draftSaved(id) {
    state.draftId = id;
    markImagesSaved();
    window.history.replaceState(null, "", `?draft=${id}`);
    $("#delete-draft").hidden = false;
    clearProblems();
    Hayon.showSummary($("#compose-errors"), []);
    setBusy(false, `Draft saved at ${new Date().toLocaleTimeString()}.`);
  }

  function failed(answer) {
    setBusy(false, "");
    showSubmitErrors(answer.data);
  }

  // A new post: one create call. Its key stays the same until it succeeds, so a double
  // submit or a retry after a lost answer makes one post, not two.
  async function createPost(draft) {
    const key = draft ? newKey() : state.submitKey;
    const answer = await Hayon.api("POST", "/api/posts/", body(draft), { "Idempotency-Key": key });
    if (answer.data && answer.data.code === "idempotency_key_reused") {
      // An earlier send made the post but its answer was lost, and the text has changed
      // since: say so, and let a further send make a new post on purpose.
      state.submitKey = newKey();
      return failed({
        data: {
          errors: [
            {
              message:
                `${answer.data.message}. The earlier version is already in your posts; ` +
                "send again to make this one as a new post.",
            },
          ],
        },
      });
    }
    if (!answer.ok) return failed(answer);

    if (draft) return draftSaved(answer.data.id);
    window.location.assign(`/posts/${answer.data.id}/`);
  }

  // A draft: save its content, then (unless only saving) publish it now or at its time.
  async function updateDraft(draft) {
    const id = state.draftId;
    const edit = await Hayon.api("PATCH", `/api/posts/${id}/`, content());
    if (!edit.ok) return failed(edit);
    if (draft) return draftSaved(id);

    markImagesSaved();
    const answer = await Hayon.api("POST", `/api/posts/${id}/publish/`, schedule());
    if (!answer.ok) return failed(answer);
    window.location.assign(`/posts/${id}/`);
  }

  async function save(draft) {
    if (state.busy) return;
    const problem = problemsBeforeSaving(draft);
    if (problem) {
      const field = problem.startsWith("Choose a date") ? "scheduled_at" : "media";
      showSubmitErrors({ errors: [{ message: problem, field }] });
      return;
    }

    setBusy(true, draft ? "Saving the draft…" : "Sending…");
    if (state.draftId) {
      await updateDraft(draft);
    } else {
      await createPost(draft);
    }
  }

  async function deleteDraft() {
    if (!state.draftId || !window.confirm("Delete this draft and its images?")) return;
    const answer = await Hayon.api("DELETE", `/api/posts/${state.draftId}/`);
    if (answer.ok || answer.status === 404) {
      window.location.assign("/");
      return;
    }
    showSubmitErrors(answer.data);
  }

  // --- start ----------------------------------------------------------------------------

  function restore(initial) {
    if (initial.text) $("#text").value = initial.text;
    for (const id of initial.accounts || []) {
      const box = $(`#account-${id}`);
      if (box && !box.disabled) box.checked = true;
    }
    for (const [id, content] of Object.entries(initial.platform_content || {})) {
      const box = $(`[data-override="${id}"]`);
      if (box) {
        box.value = content.text;
        box.closest("details").open = true;
      }
    }
    for (const item of initial.media || []) {
      const image = newImage(item.name, item.url);
      image.mediaId = item.id;
      image.saved = true;
      $(".alt", image.element).value = item.alt || "";
      setUploadState(image, "done", "Uploaded", 100);
    }
    if (initial.timezone && initial.draft_id) chooseZone(initial.timezone);
    if (initial.date && initial.time) {
      $("#when-later").checked = true;
      $("#schedule-date").value = initial.date;
      $("#schedule-time").value = initial.time;
    }
    state.draftId = initial.draft_id || null;
    $("#delete-draft").hidden = !state.draftId;
  }

  document.addEventListener("DOMContentLoaded", () => {
    state.accounts = JSON.parse($("#compose-accounts").textContent);
    chooseZone(Hayon.browserZone());
    restore(JSON.parse($("#compose-initial").textContent));

    $("#text").addEventListener("input", () => {
      renderPreviews();
      validateSoon();
    });
    for (const box of $$("input[name=accounts]")) {
      box.addEventListener("change", () => {
        syncAccount(box);
        renderPreviews();
        validateSoon();
      });
      syncAccount(box);
    }
    for (const box of $$("[data-override]")) {
      box.addEventListener("input", () => {
        renderPreviews();
        validateSoon();
      });
    }
    for (const radio of $$("input[name=when]")) radio.addEventListener("change", syncWhen);
    for (const id of ["#schedule-date", "#schedule-time", "#schedule-timezone"]) {
      $(id).addEventListener("change", validateSoon);
    }
    $("#image-input").addEventListener("change", (event) => {
      addFiles(Array.from(event.target.files));
      event.target.value = "";
    });
    $("#compose").addEventListener("submit", (event) => {
      event.preventDefault();
      save(false);
    });
    $("#save-draft").addEventListener("click", () => save(true));
    $("#delete-draft").addEventListener("click", deleteDraft);

    syncWhen();
    renderPreviews();
    $("#text").focus();
  });
})();
