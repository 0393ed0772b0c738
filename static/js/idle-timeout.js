// Idle sign-out notice (progressive enhancement; the server enforces the limit on its own).
// Shows the "stay signed in" form shortly before the idle limit, and once the limit has passed
// loads the page again so that the sign-in page says why the user was signed out.
(() => {
  const notice = document.getElementById("idle-notice");
  if (!notice) return;
  const timeout = Number(notice.dataset.idleTimeout) * 1000;
  const warning = Number(notice.dataset.idleWarning) * 1000;
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
    notice.querySelector("button").focus();
  }, Math.max(0, timeout - warning));
  window.setTimeout(() => window.location.assign(window.location.href), timeout + 1000);
})();
