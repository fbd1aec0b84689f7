// The policy editor's line numbers: the gutter beside the textarea follows the text's lines
// and its scrolling, and the line and column of the cursor are written under the label (for
// readers who do not see the gutter). Without scripts the textarea still works, with the
// numbers of the text as it was loaded.
(function () {
  "use strict";
  function setUp() {
    var text = document.getElementById("policy-text");
    var gutter = document.getElementById("policy-gutter");
    var position = document.getElementById("editor-position");
    if (!text || !gutter) { return; }
    var shown = -1;
    function numbers() {
      var lines = text.value.split("\n").length;
      if (lines !== shown) {
        var out = [];
        for (var i = 1; i <= lines; i++) { out.push(i); }
        gutter.textContent = out.join("\n") + "\n";
        shown = lines;
      }
      gutter.scrollTop = text.scrollTop;
    }
    function where() {
      if (!position) { return; }
      var before = text.value.slice(0, text.selectionStart).split("\n");
      position.textContent = "cursor at line " + before.length + ", column " +
        (before[before.length - 1].length + 1) + " of " + text.value.split("\n").length + " lines";
    }
    text.addEventListener("input", function () { numbers(); where(); });
    text.addEventListener("scroll", numbers);
    text.addEventListener("keyup", where);
    text.addEventListener("click", where);
    text.addEventListener("focus", where);
    numbers();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
