// Session notices (progressive enhancement; the server enforces the limits on its own).
// Shortly before the idle limit it shows the "stay signed in" form, which then works in the
// background so that a half-written form stays as it is. Before it warns, and once a limit
// has passed, it asks the server how long the session has left (activity in another tab
// moves the idle limit on): it loads the page again only when the session has ended, so that
// the sign-in page says why. Closed without "Stay signed in", the warning comes once more a
// minute before the limit.
(() => {
  const notice = document.getElementById("idle-notice");
  if (!notice) return;
  const timeout = Number(notice.dataset.idleTimeout) * 1000;
  const warning = Number(notice.dataset.idleWarning) * 1000;
  const statusUrl = notice.dataset.statusUrl;
  // A notice that appears takes the focus, on its action ("Stay signed in") or else on "Close",
  // so that keyboard and screen reader users learn of it at once and need no walk past the
  // footer to reach it; but not from someone typing in a field, whose next keys would land on
  // the notice's button and be lost: they hear it from a live region and see it instead.
  // "Close" (or Escape) hides it until the script shows it again, and gives the focus back to
  // where it was on the page.
  let lastFocused = null;
  const notices = notice.parentElement;
  const announcer = notices.querySelector("[data-announcer]");
  document.addEventListener("focusin", (event) => {
    if (!notices.contains(event.target)) lastFocused = event.target;
  });
  const isTyping = (element) =>
    !!element &&
    (element.isContentEditable ||
      element.tagName === "TEXTAREA" ||
      (element.tagName === "INPUT" &&
        !["button", "checkbox", "radio", "submit", "reset", "file", "image", "range", "color"]
          .includes(element.type)));
  const show = (element) => {
    element.hidden = false;
    if (isTyping(document.activeElement)) {
      announcer.textContent = "";
      announcer.textContent = element.querySelector("p").textContent.trim();
      return;
    }
    const action = element.querySelector("button[type=submit]");
    (action || element.querySelector("[data-dismiss]")).focus();
  };
  const dismiss = (element) => {
    const hadFocus = element.contains(document.activeElement);
    element.hidden = true;
    if (hadFocus && lastFocused && lastFocused.isConnected) lastFocused.focus();
  };
  const close = (element) => {
    dismiss(element);
    if (element === notice) remindIdle();
  };
  notices.querySelectorAll("[data-dismiss]").forEach((button) => {
    button.addEventListener("click", () => close(button.closest(".idle-notice")));
  });
  notices.addEventListener("keydown", (event) => {
    const element = event.target.closest(".idle-notice");
    if (event.key === "Escape" && element) close(element);
  });

  const reload = () => window.location.assign(window.location.href);
  // The session's time left, {idle_left, absolute_left} in seconds; null when it has ended
  // (the server answers with the sign-in redirect) or the server cannot be asked.
  const ask = (url, options) =>
    fetch(url, {
      credentials: "same-origin",
      redirect: "manual",
      headers: { Accept: "application/json" },
      ...options,
    })
      .then((response) => (response.ok ? response.json() : null))
      .catch(() => null);

  const remindBefore = 60 * 1000;
  let idleTimers = [];
  let idleEnds = 0;
  let reminded = false;
  const planIdle = (left) => {
    idleTimers.forEach((timer) => window.clearTimeout(timer));
    idleEnds = Date.now() + left;
    reminded = false;
    idleTimers = [
      window.setTimeout(warnIdle, Math.max(0, left - warning)),
      window.setTimeout(checkEnded, left + 1000),
    ];
  };
  // Once per warning, and only while more than a minute is left: never a loop.
  const remindIdle = () => {
    const wait = idleEnds - remindBefore - Date.now();
    if (reminded || wait <= 0) return;
    reminded = true;
    idleTimers.push(window.setTimeout(warnIdle, wait));
  };
  const checkEnded = () =>
    ask(statusUrl).then((left) => {
      if (!left || left.idle_left <= 0 || left.absolute_left === 0) reload();
      else planIdle(left.idle_left * 1000);
    });
  const warnIdle = () =>
    ask(statusUrl).then((left) => {
      if (left && left.idle_left * 1000 > warning) {
        planIdle(left.idle_left * 1000); // used in another tab meanwhile
        return;
      }
      show(notice);
    });

  const keepAlive = notice.querySelector("form");
  keepAlive.addEventListener("submit", (event) => {
    event.preventDefault();
    ask(keepAlive.action, { method: "POST", body: new FormData(keepAlive) }).then((left) => {
      if (!left) {
        keepAlive.submit(); // the page's own way: the server says what happened
        return;
      }
      dismiss(notice);
      planIdle(left.idle_left * 1000);
    });
  });

  // The absolute limit cannot be extended: its notice only says to save one's work.
  const ending = document.getElementById("session-end-notice");
  if (ending) {
    const left = Number(ending.dataset.sessionLeft) * 1000;
    window.setTimeout(() => show(ending), Math.max(0, left - warning));
    window.setTimeout(checkEnded, left + 1000);
  }
  if (timeout) planIdle(timeout);
})();
