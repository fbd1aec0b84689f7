// The note fields of the review forms say how much of their limit is used, as the reviewer
// types: "1,234 of 4,000 characters". The field itself (maxlength) stops at the limit; the
// server refuses a longer note with a message, for browsers that do not.
document.addEventListener("input", (event) => {
  const field = event.target;
  if (!(field instanceof HTMLTextAreaElement) || !field.dataset.counter) return;
  const counter = document.getElementById(field.dataset.counter);
  const limit = Number(field.dataset.limit);
  if (!counter || !limit) return;
  const used = field.value.length.toLocaleString("en-US");
  counter.textContent = `${used} of ${limit.toLocaleString("en-US")} characters`;
});
