// Show only the trigger fields of the chosen trigger (without script, all stay visible).
document.addEventListener("DOMContentLoaded", () => {
  const kind = document.getElementById("id_trigger_kind");
  if (!kind) return;
  const fields = [...document.querySelectorAll("[data-trigger]")];
  const show = () => {
    for (const field of fields) {
      const row = field.closest("p");
      if (row) row.hidden = !field.dataset.trigger.split(" ").includes(kind.value);
    }
  };
  kind.addEventListener("change", show);
  show();
});
