// Progressive enhancement: the import preview's button counts the rows it will create as
// "Create anyway" boxes are ticked ("Import 3 rows"). Without this file it says "up to".
(() => {
  const button = document.querySelector("button[data-import-ready]");
  if (!button) return;
  const ready = Number(button.dataset.importReady);
  const boxes = [...button.form.querySelectorAll('input[name="create_anyway"]')];
  const update = () => {
    const count = ready + boxes.filter((box) => box.checked).length;
    const label = count === 1 ? button.dataset.labelOne : button.dataset.labelOther;
    button.textContent = label.replace("{count}", String(count));
  };
  boxes.forEach((box) => box.addEventListener("change", update));
  update();
})();
