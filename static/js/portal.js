// Progressive enhancement only: every page works without this file.
document.documentElement.classList.add("js");
// A page that answers a POST and must not be posted again by reload or the back button
// (the browser's "Confirm form resubmission"): its history entry becomes a plain one, which
// the browser asks for with GET. Views set plain_history where that is safe.
if (document.querySelector("meta[name='plain-history']")) {
  window.history.replaceState(null, "", window.location.href);
}
// A choice made with the mouse applies at once. With the keyboard, arrow keys only move
// through the options (WCAG 3.2.2): Enter or the revealed button applies the choice.
// On a page that shows what a form sent, switching asks first (data-confirm-leave).
document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
  let byKeyboard = false;
  const chosen = select.value;
  const submit = () => {
    const leave = select.form.querySelector("[data-confirm-leave]");
    if (leave && !window.confirm(leave.dataset.confirmLeave)) {
      select.value = chosen;
      return;
    }
    select.form.submit();
  };
  select.addEventListener("pointerdown", () => { byKeyboard = false; });
  select.addEventListener("keydown", (event) => {
    byKeyboard = true;
    if (event.key === "Enter") submit();
  });
  select.addEventListener("change", () => {
    if (byKeyboard) select.form.classList.add("is-changed");
    else submit();
  });
});
// Close the user menu when clicking elsewhere, pressing Escape or tabbing out of it.
const closeMenu = (menu, focusSummary) => {
  menu.removeAttribute("open");
  if (focusSummary) menu.querySelector("summary").focus();
};
document.addEventListener("click", (event) => {
  document.querySelectorAll("details.user-menu[open]").forEach((menu) => {
    if (!menu.contains(event.target)) closeMenu(menu, false);
  });
});
document.querySelectorAll("details.user-menu").forEach((menu) => {
  menu.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && menu.open) closeMenu(menu, true);
  });
  menu.addEventListener("focusout", (event) => {
    if (menu.open && event.relatedTarget && !menu.contains(event.relatedTarget)) {
      closeMenu(menu, false);
    }
  });
});
// New accounts start in the device's time zone (the server checks it is a known one).
document.querySelectorAll("input[data-device-time-zone]").forEach((input) => {
  try {
    input.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (error) {
    input.value = "";
  }
});
// The profile offers the device's time zone when it is another one of the list.
document.querySelectorAll("[data-device-time-zone-hint]").forEach((hint) => {
  const select = hint.closest(".field").querySelector("select");
  let zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (error) {
    return;
  }
  const option = select && Array.from(select.options).find((choice) => choice.value === zone);
  if (!option || select.value === zone) return;
  hint.querySelector("strong").textContent = option.textContent;
  hint.hidden = false;
  hint.querySelector("button").addEventListener("click", () => {
    select.value = zone;
    hint.hidden = true;
    select.focus();
  });
});
// Ask before a form does something hard to undo (data-confirm holds the translated question).
document.querySelectorAll("form[data-confirm]").forEach((form) => {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
});
// A form that creates things is sent once: a double click would otherwise send it twice, and
// the page would show the second answer. Disabled after the browser read the button's value.
document.querySelectorAll("form[data-submit-once]").forEach((form) => {
  form.addEventListener("submit", (event) => {
    if (event.defaultPrevented) return;
    if (form.dataset.sent) {
      event.preventDefault();
      return;
    }
    form.dataset.sent = "1";
    setTimeout(() => form.querySelectorAll("button[type=submit]").forEach((b) => { b.disabled = true; }));
  });
});
window.addEventListener("pageshow", (event) => {
  if (!event.persisted) return;  // back to a page kept in memory: its buttons work again
  document.querySelectorAll("form[data-sent]").forEach((form) => {
    delete form.dataset.sent;
    form.querySelectorAll("button[type=submit]").forEach((b) => { b.disabled = false; });
  });
});
