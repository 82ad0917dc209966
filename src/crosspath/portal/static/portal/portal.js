// The portal works without this script; it only makes a few things quicker.
(function () {
  "use strict";

  // Copy buttons on the curl examples.
  function addCopyButtons() {
    if (!navigator.clipboard) return;
    document.querySelectorAll("pre.code:not(.output)").forEach(function (pre) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "copy";
      button.textContent = "Copy";
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(pre.querySelector("code").textContent).then(function () {
          button.textContent = "Copied";
          setTimeout(function () { button.textContent = "Copy"; }, 1500);
        });
      });
      pre.appendChild(button);
    });
  }

  // The field mapping searches as you type: the server does the search, this only asks it.
  function liveSearch(form) {
    var results = document.getElementById("results");
    var status = document.getElementById("search-status");
    var timer = null;
    var latest = 0;
    function run() {
      var params = new URLSearchParams(new FormData(form));
      var url = form.getAttribute("action") + "?" + params.toString();
      var ticket = ++latest;
      fetch(url, { headers: { Accept: "text/html" } })
        .then(function (response) { return response.text(); })
        .then(function (html) {
          if (ticket !== latest) return; // an answer to an older query
          var page = new DOMParser().parseFromString(html, "text/html");
          var fresh = page.getElementById("results");
          if (!fresh) return;
          results.innerHTML = fresh.innerHTML;
          history.replaceState(null, "", url);
          // Screen readers hear the new count, not the whole table.
          var summary = document.getElementById("summary-text");
          if (status && summary) status.textContent = summary.textContent;
        })
        .catch(function () { /* the Search button still works */ });
    }
    function soon() {
      clearTimeout(timer);
      timer = setTimeout(run, 200);
    }
    form.querySelector("input[name=q]").addEventListener("input", soon);
    form.querySelector("select[name=kind]").addEventListener("change", run);
  }

  // The access form: one click sends once; after an error, the summary gets the focus.
  function accessForm(form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("[data-submit]");
      // Disabled after this tick, so the browser still sends the form.
      setTimeout(function () {
        button.disabled = true;
        button.textContent = "Sending…";
      }, 0);
    });
    var summary = document.getElementById("error-summary");
    if (summary) summary.focus();
  }

  document.addEventListener("DOMContentLoaded", function () {
    addCopyButtons();
    var search = document.querySelector("form[data-live-search]");
    if (search) liveSearch(search);
    var access = document.querySelector("form[data-access-form]");
    if (access) accessForm(access);
  });
})();
