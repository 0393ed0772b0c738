// Progressive enhancement: the support queue's filters, folded for a phone, start open on a
// wide screen, where they fit above the rows. Loaded right after them, so nothing jumps.
(() => {
  const filters = document.querySelector("details.filters[data-open-wide]");
  if (filters && window.matchMedia("(min-width: 900px)").matches) filters.open = true;
})();
