// The dispute desk's progressive touches. Every page works without this script; it
// only adds conveniences on top of links and forms that already do the job.
"use strict";

// A copy button beside each block marked `data-copyable` (the event page's envelope):
// the block itself stays focusable and selectable without it.
document.querySelectorAll("pre[data-copyable]").forEach(function (block) {
  if (!navigator.clipboard) { return; }
  var button = document.createElement("button");
  button.type = "button";
  button.className = "copy no-print";
  button.textContent = "Copy " + block.getAttribute("data-copyable");
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(block.textContent).then(function () {
      button.textContent = "Copied " + block.getAttribute("data-copyable");
    });
  });
  block.parentNode.insertBefore(button, block);
});

// The timeline (templates/timeline.html): focusing or pointing at a mark of the chart
// highlights its row in the table under it, and the other way round; Enter on a mark
// brings its row into view. Mark and row share data-kind and data-id.
(function () {
  function key(element) {
    return element.getAttribute("data-kind") + "\u0000" + element.getAttribute("data-id");
  }

  function wire(figure) {
    var pairs = {};
    figure.querySelectorAll("g.mark[data-kind]").forEach(function (mark) {
      pairs[key(mark)] = { mark: mark, row: null };
    });
    figure.querySelectorAll("table.timeline-facts tr[data-kind]").forEach(function (row) {
      var pair = pairs[key(row)];
      if (pair) {
        pair.row = row;
      }
    });
    function show(element, on) {
      var pair = pairs[key(element)];
      if (!pair || !pair.row) {
        return;
      }
      pair.mark.classList.toggle("is-linked", on);
      pair.row.classList.toggle("is-linked", on);
    }
    Object.keys(pairs).forEach(function (name) {
      var pair = pairs[name];
      [pair.mark, pair.row].forEach(function (element) {
        if (!element) {
          return;
        }
        element.addEventListener("focusin", function () { show(element, true); });
        element.addEventListener("focusout", function () { show(element, false); });
        element.addEventListener("mouseenter", function () { show(element, true); });
        element.addEventListener("mouseleave", function () { show(element, false); });
      });
      pair.mark.addEventListener("keydown", function (event) {
        if (event.key === "Enter" && pair.row) {
          pair.row.scrollIntoView({ block: "nearest" });
        }
      });
    });
  }

  document.querySelectorAll("figure.timeline").forEach(wire);
})();
// The row page prints whole: a section folded on screen opens for printing, and folds
// back after (without this script the print CSS still prints every open section).
window.addEventListener("beforeprint", function () {
  document.querySelectorAll(".row-page details:not([open])").forEach(function (d) {
    d.setAttribute("open", "");
    d.dataset.foldedForPrint = "yes";
  });
});
window.addEventListener("afterprint", function () {
  document.querySelectorAll(".row-page details[data-folded-for-print]").forEach(function (d) {
    d.removeAttribute("open");
    delete d.dataset.foldedForPrint;
  });
});
