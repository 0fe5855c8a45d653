// Shared by every Hayon page: the timezone cookie, JSON calls to the API with the session's
// CSRF token, and showing API errors next to the fields that caused them.
(function () {
  "use strict";

  const ZONE_COOKIE = "hayon_tz";

  function browserZone() {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
    } catch (error) {
      return "UTC";
    }
  }

  function readCookie(name) {
    const prefix = name + "=";
    for (const part of document.cookie.split(";")) {
      const item = part.trim();
      if (item.startsWith(prefix)) return item.slice(prefix.length);
    }
    return "";
  }

  // The server renders dates in the zone named by the cookie. When the browser's zone differs
  // from the one the page was rendered in, store it and render once more, so lists and the
  // calendar fall on the user's days. The session flag stops a loop if the server refuses it.
  function rememberZone() {
    const zone = browserZone();
    if (readCookie(ZONE_COOKIE) !== zone) {
      document.cookie = `${ZONE_COOKIE}=${zone}; path=/; max-age=31536000; samesite=lax`;
    }
    const rendered = document.body.dataset.zone;
    const flag = "hayon-zone-reload:" + zone;
    if (rendered && rendered !== zone && !sessionStorage.getItem(flag)) {
      sessionStorage.setItem(flag, "1");
      window.location.reload();
    }
  }

  function csrfToken() {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : readCookie("csrftoken");
  }

  // Return {ok, status, data} for a JSON call; never throws, so callers show one message.
  async function api(method, url, body, headers) {
    const options = {
      method,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrfToken(), ...(headers || {}) },
    };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }

    let response;
    try {
      response = await fetch(url, options);
    } catch (error) {
      return {
        ok: false,
        status: 0,
        data: { message: "Hayon could not be reached. Check your connection and try again." },
      };
    }

    let data = null;
    try {
      data = await response.json();
    } catch (error) {
      data = { message: `The server answered ${response.status} without details.` };
    }
    return { ok: response.ok, status: response.status, data };
  }

  // API errors come as {code, message, field, errors: [...]}; return the list of problems.
  function problemsOf(data) {
    if (!data) return [];
    if (Array.isArray(data.errors) && data.errors.length) return data.errors;
    if (data.message) return [{ message: data.message, field: data.field }];
    if (data.detail) return [{ message: data.detail }];
    return [];
  }

  function setError(element, message) {
    if (!element) return false;
    element.textContent = message;
    element.hidden = !message;
    return true;
  }

  function clearErrors(root) {
    for (const element of root.querySelectorAll("[data-error-for]")) setError(element, "");
  }

  function showSummary(element, messages) {
    element.replaceChildren();
    if (!messages.length) {
      element.hidden = true;
      return;
    }
    const title = document.createElement("p");
    title.textContent =
      messages.length === 1 ? "One thing to fix:" : `${messages.length} things to fix:`;
    const list = document.createElement("ul");
    for (const message of messages) {
      const item = document.createElement("li");
      item.textContent = message;
      list.append(item);
    }
    element.append(title, list);
    element.hidden = false;
  }

  window.Hayon = { api, browserZone, problemsOf, setError, clearErrors, showSummary };

  document.addEventListener("DOMContentLoaded", rememberZone);
})();
