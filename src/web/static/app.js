// anbud's only script: it enhances, and every page works without it.
// The entry editor shows the reply as suppliers will see it, and kb lint's messages,
// while the adviser types (without it: the Preview button).
(function () {
  "use strict";
  var form = document.querySelector("form[data-preview]");
  if (!form) { return; }
  var target = document.getElementById("preview");
  var timer = null;
  var sent = 0;
  function refresh() {
    var mine = ++sent;
    var body = new URLSearchParams(new FormData(form));
    fetch(form.getAttribute("data-preview"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: body.toString()
    }).then(function (response) {
      return response.ok ? response.text() : null;
    }).then(function (html) {
      // Only the newest answer counts; the server escapes every value in it.
      if (html !== null && mine === sent && target) {
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = holder.querySelector("#preview");
        if (fresh) { target.replaceWith(fresh); target = fresh; }
      }
    }).catch(function () { /* the Preview button still works */ });
  }
  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  });
  document.documentElement.classList.add("live-preview");
})();
