/* Uchet: localised select2 (FAB hard-codes "Select a State" and English messages)
   and search-as-you-type choice fields (views/lookup.py). Texts come from the page:
   window.UCHET_I18N, rendered by uchet/baselayout.html in the user's language. */
(function () {
  var T = window.UCHET_I18N || {};
  var language = {
    noResults: function () { return T.noResults; },
    searching: function () { return T.searching; },
    errorLoading: function () { return T.errorLoading; },
    inputTooShort: function () { return T.typeMore; }
  };
  if ($.fn.select2) {
    $.fn.select2.defaults.set("language", language);
  }
  $(function () {
    // Runs after ab.js has set up its selects: give them a placeholder in the user's language.
    $("select.my_select2").each(function () {
      var el = $(this);
      if (el.data("select2")) { el.select2("destroy"); }
      el.select2({placeholder: T.choose, allowClear: true, theme: "bootstrap",
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
})();
