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
