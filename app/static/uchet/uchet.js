/* Uchet: FAB's scripts in the user's language and Russian formats. FAB hard-codes
   English (select2's "Select a State", "Remove all items", ab_actions' "No row
   selected") and a yyyy-mm-dd calendar; texts come from the page:
   window.UCHET_I18N, rendered by uchet/baselayout.html in the user's language.
   Also: search-as-you-type choice fields (views/lookup.py) and the ДД.ММ.ГГГГ
   calendar of the date fields (views/dates.py). */
(function () {
  var T = window.UCHET_I18N || {};
  var language = {
    noResults: function () { return T.noResults; },
    searching: function () { return T.searching; },
    errorLoading: function () { return T.errorLoading; },
    inputTooShort: function () { return T.typeMore; },
    removeAllItems: function () { return T.clear; }
  };
  var FAB_PLACEHOLDERS = {"Select a State": true, "Select": true};

  // The empty choice of an optional link is the option "__None" (FAB); shown as the
  // placeholder, and what the clearing cross goes back to.
  function placeholderFor(el) {
    return el.find("option[value='__None']").length ? {id: "__None", text: T.none} : T.choose;
  }

  if ($.fn.select2) {
    $.fn.select2.defaults.set("language", language);
    // FAB's own calls (ab.js, ab_filters.js) pass English placeholders: replace them.
    var select2 = $.fn.select2;
    $.fn.select2 = function (options) {
      if (options && typeof options === "object" && FAB_PLACEHOLDERS[options.placeholder]) {
        options = $.extend({}, options, {placeholder: placeholderFor($(this)),
                                         language: language});
        return select2.apply(this, [options].concat([].slice.call(arguments, 1)));
      }
      return select2.apply(this, arguments);
    };
    $.extend($.fn.select2, select2);
  }

  // ab_actions.js alerts English literals.
  if (typeof window.ab_alert === "function") {
    var fabAlert = window.ab_alert;
    window.ab_alert = function (text) { fabAlert((T.fab || {})[text] || text); };
  }

  function two(n) { return (n < 10 ? "0" : "") + n; }

  // ДД.ММ.ГГГГ both ways; a date-time keeps its typed time of day when a day is picked.
  function russianFormat(input, withTime) {
    return {
      toValue: function (text) {
        var m = /^\s*(\d{1,2})\.(\d{1,2})\.(\d{4})/.exec(text || "");
        return m ? new Date(Date.UTC(+m[3], +m[2] - 1, +m[1])) : undefined;
      },
      toDisplay: function (date) {
        var day = two(date.getUTCDate()) + "." + two(date.getUTCMonth() + 1) + "." +
                  date.getUTCFullYear();
        if (!withTime) { return day; }
        var time = /\d{1,2}:\d{2}/.exec(input.val() || "");
        return day + " " + (time ? time[0] : "00:00");
      }
    };
  }

  function calendar(group) {
    var el = $(group);
    if (el.data("datepicker") || !$.fn.datepicker) { return; }
    var input = el.find("input");
    el.datepicker({
      format: russianFormat(input, el.data("kind") === "datetime"), language: T.lang,
      weekStart: 1, autoclose: true, todayHighlight: true, todayBtn: "linked",
      // What was typed stays as typed: the server names a bad date at its field.
      forceParse: false
    });
  }

  $(document).on("focusin click", ".uchet-date", function () {
    // List filters add date fields after the page has loaded.
    if (!$(this).data("datepicker")) { calendar(this); $(this).datepicker("show"); }
  });

  $(function () {
    $(".uchet-date").each(function () { calendar(this); });
    // Runs after ab.js has set up its selects: give them a placeholder in the user's language.
    $("select.my_select2").each(function () {
      var el = $(this);
      if (el.data("select2")) { el.select2("destroy"); }
      el.select2({placeholder: placeholderFor(el), allowClear: true, theme: "bootstrap",
                  language: language});
    });
    $("select.uchet-remote").each(function () {
      var el = $(this);
      el.select2({
        theme: "bootstrap",
        allowClear: true,
        placeholder: el.data("placeholder"),
        minimumInputLength: 2,
        language: $.extend({}, language, {
          inputTooShort: function () { return el.data("placeholder"); }
        }),
        ajax: {
          url: el.data("endpoint"),
          dataType: "json",
          delay: 250,
          data: function (params) { return {q: params.term}; }
        }
      });
    });
  });

  // A form that came back with warnings asks for «Подтверждаю»: one button ticks it
  // and saves, so confirming what was read is one click, not two.
  $(function () {
    var box = $("#model_form input[type=checkbox][name=confirm]");
    if (!box.length || !T.confirmSave) { return; }
    var button = $('<button type="button" class="btn btn-warning btn-sm uchet-confirm-save">')
      .text(T.confirmSave);
    button.on("click", function () {
      box.prop("checked", true);
      var form = box.closest("form");
      var submit = form.find("button[type=submit], input[type=submit]").first();
      if (submit.length) { submit.trigger("click"); } else { form.trigger("submit"); }
    });
    box.closest(".form-group, .checkbox, td, div").first().append(" ").append(button);
  });
})();
