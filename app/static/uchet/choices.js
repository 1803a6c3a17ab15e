/* Uchet: a choice that depends on another (views/unit_fields.py). A <select
   data-depends-on="branch"> offers only the options whose data-parent is the value
   chosen in the form's "branch" field; the current choice stays until the branch
   changes. Without JavaScript every option stays offered (each names its branch). */
(function () {
  $(function () {
    $("select[data-depends-on]").each(function () {
      var el = $(this);
      var master = $(el[0].form).find("[name='" + el.data("depends-on") + "']");
      if (!master.length) { return; }
      var all = el.find("option").clone();
      function narrow(keepCurrent) {
        var parent = master.val();
        var current = el.val();
        el.empty();
        all.each(function () {
          var option = $(this);
          var mine = option.attr("data-parent") === undefined || !parent ||
                     parent === "__None" || option.attr("data-parent") === parent;
          if (mine || (keepCurrent && option.val() === current)) {
            el.append(option.clone());
          }
        });
        el.val(el.find("option[value='" + current + "']").length ? current : null);
        el.trigger("change.select2");
      }
      master.on("change", function () { narrow(false); });
      narrow(true);
    });
  });
})();
