// The pipeline board's drag and drop: dropping a card on a column picks that stage in the card's own
// "Move" form and sends it, so a drag and the keyboard's Move button are the same request.
(function () {
  "use strict";
  function ready() {
    var dragged = null;
    document.querySelectorAll(".board-card[draggable=true]").forEach(function (card) {
      card.addEventListener("dragstart", function (event) {
        dragged = card;
        card.classList.add("board-dragging");
        event.dataTransfer.effectAllowed = "move";
        event.dataTransfer.setData("text/plain", card.dataset.deal);
      });
      card.addEventListener("dragend", function () {
        card.classList.remove("board-dragging");
        document.querySelectorAll(".board-drop").forEach(function (el) { el.classList.remove("board-drop"); });
      });
    });
    document.querySelectorAll(".board-column").forEach(function (column) {
      column.addEventListener("dragover", function (event) {
        if (!dragged) return;
        event.preventDefault();
        column.classList.add("board-drop");
      });
      column.addEventListener("dragleave", function () { column.classList.remove("board-drop"); });
      column.addEventListener("drop", function (event) {
        event.preventDefault();
        column.classList.remove("board-drop");
        var card = dragged;
        dragged = null;
        if (!card || card.closest(".board-column") === column) return;
        var form = card.querySelector("form.board-move");
        form.querySelector("select[name=stage]").value = column.dataset.stage;
        form.submit();
      });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
