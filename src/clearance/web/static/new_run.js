// The upload form warns about an unusual as-of date as soon as it is chosen, before the file
// is sent: a date before Proposition 64 took effect or after today shows the warning and a
// box that must be ticked. The server makes the same check (and shows the same box) when
// scripts do not run.
(function () {
  "use strict";
  function setUp() {
    var input = document.getElementById("as_of");
    var box = document.getElementById("as-of-confirm");
    var warning = document.getElementById("as-of-warning");
    var confirm = document.getElementById("confirm_as_of");
    var echo = document.getElementById("as-of-echo");
    if (!input || !box || !warning || !confirm) { return; }
    var earliest = input.getAttribute("data-earliest");
    var today = input.getAttribute("data-today");
    function check() {
      var value = input.value;
      var text = "";
      if (value && value < earliest) {
        text = "The as-of date " + value + " is before Proposition 64 took effect (" + earliest +
          "): no conviction can be relieved under HS 11361.8 as of that day.";
      } else if (value && value > today) {
        text = "The as-of date " + value + " is in the future (today is " + today +
          "): sentences and waiting periods would be judged as if that day had come.";
      }
      if (confirm.value !== value) { confirm.checked = false; }
      confirm.value = value;
      if (echo) { echo.textContent = value; }
      warning.textContent = text;
      box.hidden = !text;
      confirm.required = !!text;
    }
    input.addEventListener("change", check);
    input.addEventListener("input", check);
    check();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
