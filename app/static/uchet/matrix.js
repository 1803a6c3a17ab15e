/* The rights matrix: changed cells highlighted, a summary of what will change,
   a confirmation before saving, dependencies enforced as you choose and a live
   filter of the rows by name. The server checks everything again on save. */
(function () {
  "use strict";
  var data = window.UCHET_MATRIX;
  var form = document.getElementById("matrix-form");
  if (!data || !form) { return; }
  var deps = data.deps, words = data.words;
  var extra = document.getElementById("matrix-extra");
  var summary = document.getElementById("matrix-summary");
  var confirmBox = document.getElementById("matrix-confirm");
  var notes = {};  // "role:code" -> why the script changed it

  function cellOf(role, code) {
    return form.querySelector(".matrix-cell[data-role='" + role + "'][data-code='" + code + "']");
  }
  function hiddenOf(role, code) {
    return extra.querySelector("input[name='v:" + role + ":" + code + "']");
  }
  function valueOf(role, code) {
    var cell = cellOf(role, code) || hiddenOf(role, code);
    if (cell) { return cell.value; }
    return (deps.values[role] || {})[code];
  }
  function rank(code, value) { return deps.rights[code].values.indexOf(value); }
  function setValue(role, code, value, why) {
    var cell = cellOf(role, code);
    if (!cell) {
      cell = hiddenOf(role, code);
      if (!cell) {
        cell = document.createElement("input");
        cell.type = "hidden";
        cell.name = "v:" + role + ":" + code;
        cell.dataset.role = role;
        cell.dataset.code = code;
        cell.dataset.initial = deps.values[role][code];
        cell.className = "matrix-hidden";
        extra.appendChild(cell);
      }
    }
    cell.value = value;
    notes[role + ":" + code] = why;
    enforce(role, code);
  }
  // Raising a right pulls up what it requires; lowering a requirement pulls
  // down the rights that need it, to the last value that does not.
  function enforce(role, code) {
    var right = deps.rights[code];
    if (!right) { return; }
    var value = valueOf(role, code);
    right.depends.forEach(function (dep) {
      if (!deps.rights[dep.right]) { return; }
      if (rank(code, value) >= rank(code, dep.when) &&
          rank(dep.right, valueOf(role, dep.right)) < rank(dep.right, dep.min)) {
        setValue(role, dep.right, dep.min, words.auto);
      }
    });
    Object.keys(deps.rights).forEach(function (other) {
      deps.rights[other].depends.forEach(function (dep) {
        if (dep.right !== code) { return; }
        if (rank(code, value) < rank(code, dep.min) &&
            rank(other, valueOf(role, other)) >= rank(other, dep.when)) {
          var values = deps.rights[other].values;
          setValue(role, other, values[Math.max(rank(other, dep.when) - 1, 0)], words.lowered);
        }
      });
    });
  }
  function optionLabel(cell, value) {
    if (cell.tagName === "SELECT") {
      var option = Array.prototype.find.call(cell.options, function (o) { return o.value === value; });
      return option ? option.text : value;
    }
    var right = deps.rights[cell.dataset.code];
    return right ? right.labels[value] : value;
  }
  function rightLabel(cell) {
    var right = deps.rights[cell.dataset.code];
    if (right) { return right.label; }
    var row = cell.closest("tr");
    return row ? row.querySelector("th strong").textContent : cell.dataset.code;
  }
  function plural(n) {
    var m10 = n % 10, m100 = n % 100;
    if (m10 === 1 && m100 !== 11) { return words.one; }
    if (m10 >= 2 && m10 <= 4 && (m100 < 12 || m100 > 14)) { return words.few; }
    return words.many;
  }
  function changes() {
    var cells = form.querySelectorAll(".matrix-cell, .matrix-hidden");
    return Array.prototype.filter.call(cells, function (cell) {
      var changed = cell.value !== cell.dataset.initial;
      if (cell.classList.contains("matrix-cell")) {
        cell.closest("td").classList.toggle("matrix-changed", changed);
      }
      return changed;
    });
  }
  function render() {
    var list = changes();
    var lines = list.map(function (cell) {
      var role = data.deps.roles[cell.dataset.role];
      var why = notes[cell.dataset.role + ":" + cell.dataset.code];
      var li = document.createElement("li");
      li.textContent = "«" + rightLabel(cell) + "» (" + role + "): " +
        optionLabel(cell, cell.dataset.initial) + " → " + optionLabel(cell, cell.value) +
        (why ? " — " + why : "");
      return li;
    });
    summary.hidden = list.length === 0;
    summary.textContent = "";
    if (list.length) {
      var head = document.createElement("strong");
      head.textContent = list.length + " " + plural(list.length) + ":";
      var ul = document.createElement("ul");
      lines.forEach(function (li) { ul.appendChild(li); });
      summary.appendChild(head);
      summary.appendChild(ul);
    }
    return list.length;
  }
  form.addEventListener("change", function (event) {
    var cell = event.target;
    if (!cell.classList || !cell.classList.contains("matrix-cell")) { return; }
    delete notes[cell.dataset.role + ":" + cell.dataset.code];
    if (deps.rights[cell.dataset.code]) { enforce(cell.dataset.role, cell.dataset.code); }
    confirmBox.hidden = true;
    render();
  });
  document.getElementById("matrix-review").addEventListener("click", function () {
    var n = render();
    var list = document.getElementById("matrix-confirm-list");
    list.textContent = "";
    if (!n) {
      list.textContent = words.none;
    } else {
      list.appendChild(summary.cloneNode(true)).hidden = false;
    }
    document.getElementById("matrix-save").hidden = n === 0;
    confirmBox.hidden = false;
    confirmBox.scrollIntoView({block: "nearest"});
    (n ? document.getElementById("matrix-save") : document.getElementById("matrix-cancel")).focus();
  });
  document.getElementById("matrix-cancel").addEventListener("click", function () {
    confirmBox.hidden = true;
    document.getElementById("matrix-review").focus();
  });
  // The filter narrows the rows shown as you type; Enter searches every section.
  var search = document.getElementById("matrix-search");
  if (search) {
    search.addEventListener("input", function () {
      var needle = search.value.trim().toLowerCase();
      form.querySelectorAll("tbody tr").forEach(function (row) {
        row.hidden = needle !== "" && row.dataset.name.indexOf(needle) < 0;
      });
    });
  }
})();
