// The post page: follows each delivery live while anything is in flight, and runs the
// cancel, reschedule and retry buttons through the REST API.
(function () {
  "use strict";

  const FAST = 2000;
  const SLOW = 60000;
  const SOON = 10 * 60 * 1000;
  const MOVING = ["queued", "publishing", "retrying"];

  let config;
  let timer = null;

  function rows() {
    return Array.from(document.querySelectorAll("[data-delivery]"));
  }

  function field(row, name) {
    return row.querySelector(`[data-field="${name}"]`);
  }

  function pollDelay(deliveries) {
    const now = Date.now();
    let delay = null;
    for (const delivery of deliveries) {
      if (MOVING.includes(delivery.status)) return FAST;
      if (delivery.status !== "pending" || config.draft) continue;
      const due = delivery.next_attempt_at ? Date.parse(delivery.next_attempt_at) : now;
      delay = due - now < SOON ? FAST : delay || SLOW;
    }
    return delay;
  }

  function updateRow(row, delivery) {
    const previous = row.dataset.status;
    row.dataset.status = delivery.status;

    const badge = field(row, "status");
    badge.className = `badge delivery-${delivery.status}`;
    badge.textContent = config.delivery_labels[delivery.status] || delivery.status;
    field(row, "hint").textContent = config.hints[delivery.status] || "";

    const attempts = delivery.attempts;
    field(row, "attempts").textContent = `${attempts} attempt${attempts === 1 ? "" : "s"}`;

    const next = field(row, "next");
    const showNext =
      delivery.next_attempt_at && !["published", "cancelled"].includes(delivery.status);
    next.hidden = !showNext;
    if (showNext) {
      const time = next.querySelector("time");
      time.dateTime = delivery.next_attempt_at;
      time.textContent = new Date(delivery.next_attempt_at).toLocaleString();
    }

    const link = field(row, "link");
    link.hidden = !delivery.remote_url;
    if (delivery.remote_url) link.querySelector("a").href = delivery.remote_url;

    const error = delivery.error ? delivery.error.message : "";
    field(row, "error").textContent = error;
    field(row, "error").hidden = !error;

    row.querySelector("[data-action=retry]").hidden = !config.retryable.includes(delivery.status);
    row.querySelector("[data-action=cancel]").hidden =
      config.draft || !config.waiting.includes(delivery.status);

    if (previous !== delivery.status) {
      const handle = row.querySelector("strong").textContent;
      document.getElementById("live-status").textContent = `${handle}: ${badge.textContent}`;
    }
  }

  function updatePost(data) {
    const badge = document.getElementById("post-status");
    badge.className = `badge post-${data.status.toLowerCase()}`;
    badge.textContent = config.post_labels[data.status] || data.status;
    badge.dataset.status = data.status;

    for (const delivery of data.deliveries) {
      const row = document.querySelector(`[data-delivery="${delivery.id}"]`);
      if (row) updateRow(row, delivery);
    }
  }

  async function poll() {
    timer = null;
    const answer = await Hayon.api("GET", `/api/posts/${config.id}/status/`);
    if (!answer.ok) {
      schedule(SLOW);
      return;
    }
    updatePost(answer.data);
    schedule(pollDelay(answer.data.deliveries));
  }

  function schedule(delay) {
    if (timer) clearTimeout(timer);
    timer = delay ? setTimeout(poll, delay) : null;
  }

  function showActionError(data) {
    const box = document.getElementById("action-error");
    Hayon.showSummary(
      box,
      Hayon.problemsOf(data).map((p) => p.message),
    );
    box.focus();
  }

  async function cancelPost(button) {
    if (!window.confirm("Cancel this post for every account that has not published it yet?")) {
      return;
    }
    button.disabled = true;
    const answer = await Hayon.api("POST", `/api/posts/${config.id}/cancel/`);
    if (answer.ok) {
      window.location.reload();
      return;
    }
    button.disabled = false;
    showActionError(answer.data);
  }

  async function duplicatePost(button) {
    button.disabled = true;
    const answer = await Hayon.api("POST", `/api/posts/${config.id}/duplicate/`);
    if (answer.ok) {
      window.location.assign(`/posts/new/?draft=${answer.data.id}`);
      return;
    }
    button.disabled = false;
    showActionError(answer.data);
  }

  async function deliveryAction(button) {
    const row = button.closest("[data-delivery]");
    const action = button.dataset.action;
    const url = `/api/posts/${config.id}/deliveries/${row.dataset.delivery}/${action}/`;

    button.disabled = true;
    const answer = await Hayon.api("POST", url);
    button.disabled = false;
    if (!answer.ok) {
      showActionError(answer.data);
      return;
    }
    updateRow(row, answer.data);
    schedule(FAST);
  }

  // Return {date: "YYYY-MM-DD", time: "HH:MM"} of an instant as read in a zone.
  function wallClock(instant, zone) {
    const parts = {};
    const format = new Intl.DateTimeFormat("en-CA", {
      timeZone: zone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
    for (const part of format.formatToParts(instant)) parts[part.type] = part.value;
    return { date: `${parts.year}-${parts.month}-${parts.day}`, time: `${parts.hour}:${parts.minute}` };
  }

  function setUpReschedule(form) {
    const zoneSelect = form.querySelector("#reschedule-timezone");
    const when = document.getElementById("post-when");
    const instant = when ? new Date(when.dateTime) : new Date(Date.now() + 3600 * 1000);
    const local = wallClock(instant, zoneSelect.value);
    form.querySelector("#reschedule-date").value = local.date;
    form.querySelector("#reschedule-time").value = local.time;

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      Hayon.clearErrors(form);
      const date = form.querySelector("#reschedule-date").value;
      const time = form.querySelector("#reschedule-time").value;
      const target = form.querySelector('[data-error-for="scheduled_at"]');
      if (!date || !time) {
        Hayon.setError(target, "Choose a date and a time.");
        return;
      }

      const answer = await Hayon.api("POST", `/api/posts/${config.id}/reschedule/`, {
        scheduled_at: `${date}T${time}`,
        timezone: zoneSelect.value,
      });
      if (answer.ok) {
        window.location.reload();
        return;
      }
      const problems = Hayon.problemsOf(answer.data);
      Hayon.setError(target, problems.map((p) => p.message).join(" "));
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    config = JSON.parse(document.getElementById("post-config").textContent);

    const cancel = document.getElementById("cancel-post");
    if (cancel) cancel.addEventListener("click", () => cancelPost(cancel));

    const duplicate = document.getElementById("duplicate-post");
    duplicate.addEventListener("click", () => duplicatePost(duplicate));

    const form = document.getElementById("reschedule-form");
    if (form) setUpReschedule(form);

    for (const button of document.querySelectorAll("[data-delivery] [data-action]")) {
      button.addEventListener("click", () => deliveryAction(button));
    }

    const initial = rows().map((row) => {
      const time = field(row, "next").querySelector("time");
      return {
        status: row.dataset.status,
        next_attempt_at: time && time.dateTime ? time.dateTime : null,
      };
    });
    schedule(pollDelay(initial));
  });
})();
