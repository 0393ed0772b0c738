// Backup codes: print them or save them as a text file, in the browser only (progressive
// enhancement; the buttons stay hidden without this script).
(() => {
  const actions = document.querySelector("[data-backup-code-actions]");
  if (!actions) return;
  const codes = Array.from(document.querySelectorAll("#backup-codes code"), (code) => code.textContent);
  actions.hidden = false;
  actions.querySelector("[data-print]").addEventListener("click", () => window.print());
  actions.querySelector("[data-download]").addEventListener("click", () => {
    const text = [actions.dataset.fileHeading, "", ...codes, ""].join("\r\n");
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], { type: "text/plain;charset=utf-8" }));
    link.download = actions.dataset.fileName;
    document.body.append(link);
    link.click();
    link.remove();
    window.setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  });
})();
