/* Uchet: search-as-you-type choice fields (views/lookup.py). */
$(function () {
  $("select.uchet-remote").each(function () {
    var el = $(this);
    el.select2({
      theme: "bootstrap",
      allowClear: true,
      placeholder: el.data("placeholder"),
      minimumInputLength: 2,
      language: {
        inputTooShort: function () { return el.data("placeholder"); },
        noResults: function () { return "\u041d\u0438\u0447\u0435\u0433\u043e \u043d\u0435 \u043d\u0430\u0439\u0434\u0435\u043d\u043e"; },
        searching: function () { return "\u041f\u043e\u0438\u0441\u043a\u2026"; }
      },
      ajax: {
        url: el.data("endpoint"),
        dataType: "json",
        delay: 250,
        data: function (params) { return {q: params.term}; }
      }
    });
  });
});
