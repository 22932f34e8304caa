// The provenance card of every printed number (report/card.py writes the data beside this script).
// Each number becomes focusable, with the card as its accessible description; the card shows
// beside the number while the pointer rests on it or it has keyboard focus. Escape hides it;
// Enter on a focused number goes to its row in the appendix. Nothing is fetched.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("number-cards").textContent);
  var card = document.getElementById("number-card");
  var hideTimer = null;
  var focused = null;  // the number with keyboard focus

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function fact(list, label, value, asCode) {
    if (value === "" || value === null || value === undefined) return;
    list.appendChild(element("dt", "", label));
    var dd = element("dd");
    dd.appendChild(asCode ? element("code", "", value) : document.createTextNode(value));
    list.appendChild(dd);
  }

  function seconds(value) {
    return typeof value === "number" ? value.toFixed(1) + " s" : "?";
  }

  function runLine(run) {
    var made = seconds(run.wall_time) + (run.device ? " on " + run.device : "") +
      (run.finished ? ", finished " + run.finished : "");
    return "fingerprint " + run.fingerprint + " · " + made + " · " + run.outcome + " in this build";
  }

  function fill(number) {
    var runs = (number.runs || []).map(function (key) { return data.runs[key]; });
    card.textContent = "";
    card.appendChild(element("div", "card-printed", number.printed));
    if (number.origin) card.appendChild(element("div", "card-origin", number.origin));
    var list = element("dl");
    fact(list, "stored value", number.stored, true);
    fact(list, "result path", number.path, true);
    if (runs.length) {
      fact(list, "section", runs[0].title + " (" + runs[0].section + ")");
      fact(list, runs.length > 1 ? "seeds" : "seed", runs.map(function (r) { return r.seed; }).join(", "));
      fact(list, "spread", number.spread);
      runs.forEach(function (run) { fact(list, runs.length > 1 ? "run, seed " + run.seed : "run", runLine(run)); });
    }
    fact(list, "commit", data.commit, true);
    if (data.dirty) list.lastChild.appendChild(document.createTextNode(" with uncommitted changes"));
    fact(list, "template", number.where, true);
    card.appendChild(list);
    if (number.row) {
      var link = element("a", "card-row", "Its row in \u201cEvery number in this report\u201d");
      link.href = "#" + number.row;
      card.appendChild(link);
    }
  }

  function place(span) {
    var box = span.getBoundingClientRect();
    var width = document.documentElement.clientWidth;
    card.style.left = "0px";
    card.style.top = "0px";
    var left = Math.max(8, Math.min(box.left, width - card.offsetWidth - 8));
    var below = box.bottom + 6;
    var top = below + card.offsetHeight > window.innerHeight && box.top > card.offsetHeight + 6
      ? box.top - card.offsetHeight - 6 : below;
    card.style.left = left + window.scrollX + "px";
    card.style.top = top + window.scrollY + "px";
  }

  function show(span) {
    var number = data.numbers[span.id];
    if (!number) return;
    clearTimeout(hideTimer);
    fill(number);
    card.hidden = false;
    place(span);
  }

  function hide() {
    card.hidden = true;
  }

  // When the pointer leaves a number, the card goes back to the number with keyboard focus, or
  // away; after a moment, so that the pointer can reach the card and its link.
  function leaveSoon() {
    clearTimeout(hideTimer);
    hideTimer = setTimeout(function () { if (focused) show(focused); else hide(); }, 300);
  }

  function numberOf(target) {
    return target && target.closest ? target.closest("span.num") : null;
  }

  document.querySelectorAll("span.num").forEach(function (span) {
    if (!data.numbers[span.id]) return;
    span.tabIndex = 0;
    span.setAttribute("aria-describedby", "number-card");
    span.removeAttribute("title");  // the card says more, and the browser's tooltip would cover it
  });
  document.addEventListener("mouseover", function (event) {
    var span = numberOf(event.target);
    if (span) show(span);
    else if (card.contains(event.target)) clearTimeout(hideTimer);
    else if (!card.hidden) leaveSoon();
  });
  document.addEventListener("focusin", function (event) {
    focused = numberOf(event.target);
    if (focused) show(focused);
  });
  document.addEventListener("focusout", function () {
    focused = null;
    leaveSoon();
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") hide();
    var number = focused && data.numbers[focused.id];
    if (event.key === "Enter" && number && number.row) location.hash = number.row;
  });
  window.addEventListener("resize", hide);
})();
