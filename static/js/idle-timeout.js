// Idle sign-out notice (progressive enhancement; the server enforces the limit on its own).
// Shows the "stay signed in" form shortly before the idle limit, and once the limit has passed
// loads the page again so that the sign-in page says why the user was signed out.
(() => {
  const notice = document.getElementById("idle-notice");
  if (!notice) return;
  const timeout = Number(notice.dataset.idleTimeout) * 1000;
  const warning = Number(notice.dataset.idleWarning) * 1000;
  // "Close" (or Escape) hides a notice until the script shows it again, and gives the focus
  // back to where it was on the page.
  let lastFocused = null;
  const notices = notice.parentElement;
  document.addEventListener("focusin", (event) => {
    if (!notices.contains(event.target)) lastFocused = event.target;
  });
  const dismiss = (element) => {
    const hadFocus = element.contains(document.activeElement);
    element.hidden = true;
    if (hadFocus && lastFocused && lastFocused.isConnected) lastFocused.focus();
  };
  notices.querySelectorAll("[data-dismiss]").forEach((button) => {
    button.addEventListener("click", () => dismiss(button.closest(".idle-notice")));
  });
  notices.addEventListener("keydown", (event) => {
    const element = event.target.closest(".idle-notice");
    if (event.key === "Escape" && element) dismiss(element);
  });
  // The absolute limit cannot be extended: its notice only says to save one's work.
  const ending = document.getElementById("session-end-notice");
  if (ending) {
    const left = Number(ending.dataset.sessionLeft) * 1000;
    window.setTimeout(() => { ending.hidden = false; }, Math.max(0, left - warning));
    window.setTimeout(() => window.location.assign(window.location.href), left + 1000);
  }
  if (!timeout) return;
  window.setTimeout(() => {
    notice.hidden = false;
    notice.querySelector("button[type=submit]").focus();
  }, Math.max(0, timeout - warning));
  window.setTimeout(() => window.location.assign(window.location.href), timeout + 1000);
})();
