// Intake form, progressive enhancement (the page works without it, under a strict CSP):
// - the focus goes to the error summary after a refused submission; its links move the focus
//   to the field (opening a closed « Précisions » if need be);
// - "Ajouter une personne du foyer" / "Retirer la personne N" change the page in place
//   (without JavaScript they are submit buttons and the server does the same);
// - a block marked data-show-when="name=value" is shown only when that answer is chosen
//   (hidden and disabled otherwise, so that nothing hidden is sent).
(function () {
  "use strict";
  var summary = document.querySelector("[data-focus-on-load]");
  if (summary) {
    summary.focus();
  }
  var form = document.querySelector("form[data-intake-form]");
  if (!form) {
    return;
  }

  // Error summary: a link takes the keyboard and the screen reader to the field.
  if (summary) {
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[href^='#']");
      var target = link && document.getElementById(link.getAttribute("href").slice(1));
      if (!target) {
        return;
      }
      event.preventDefault();
      var details = target.closest("details");
      if (details) {
        details.open = true;
      }
      var field = target.matches("input, select, textarea") ? target : target.querySelector("input, select, textarea");
      (field || target).focus();
      (field || target).scrollIntoView({ block: "center" });
    });
  }

  // Household members.
  var list = form.querySelector("[data-members]");
  var template = form.querySelector("template[data-member-template]");
  var addButton = form.querySelector("[data-add-member]");
  var status = form.querySelector("[data-members-status]");
  var total = form.querySelector("input[name$='-TOTAL_FORMS']");
  var maximum = form.querySelector("input[name$='-MAX_NUM_FORMS']");
  if (list && template && total) {
    var prefix = total.name.replace(/-TOTAL_FORMS$/, "");
    var indexed = new RegExp("(" + prefix + "|personne)-(\\d+|__prefix__)");
    var attributes = ["name", "id", "for", "aria-describedby", "href"];

    var members = function () {
      return list.querySelectorAll("[data-member]");
    };
    var announce = function (message) {
      status.textContent = "";
      window.setTimeout(function () { status.textContent = message; }, 50);
    };
    var updateAddButton = function () {
      if (addButton && maximum) {
        addButton.hidden = members().length >= parseInt(maximum.value, 10);
      }
    };
    // Give the block at `index` (0, 1…) the names and ids of that position.
    var renumber = function (block, index) {
      block.id = "personne-" + (index + 1);
      block.querySelectorAll("*").forEach(function (element) {
        attributes.forEach(function (name) {
          var value = element.getAttribute(name);
          if (value) {
            element.setAttribute(name, value.split(" ").map(function (part) {
              return part.replace(indexed, function (match, head) {
                return head === "personne" ? "personne-" + (index + 1) : head + "-" + index;
              });
            }).join(" "));
          }
        });
      });
      block.querySelectorAll("[data-member-number]").forEach(function (number) {
        number.textContent = index + 1;
      });
      var remove = block.querySelector("[data-remove-member]");
      if (remove) {
        remove.value = index;
      }
    };

    if (addButton) {
      addButton.addEventListener("click", function (event) {
        event.preventDefault();
        var index = members().length;
        var fragment = template.content.cloneNode(true);
        var block = fragment.querySelector("[data-member]");
        renumber(block, index);
        var familyName = list.querySelector("input[name='" + prefix + "-0-last_name']");
        var lastName = block.querySelector("input[name$='-last_name']");
        if (familyName && lastName) {
          lastName.value = familyName.value;
        }
        list.appendChild(fragment);
        total.value = members().length;
        updateAddButton();
        var first = block.querySelector("input[name$='-first_name']");
        first.focus();
        announce("Personne " + (index + 1) + " du foyer ajoutée : indiquez son prénom.");
      });
    }

    list.addEventListener("click", function (event) {
      var remove = event.target.closest("[data-remove-member]");
      if (!remove) {
        return;
      }
      event.preventDefault();
      var block = remove.closest("[data-member]");
      var number = Array.prototype.indexOf.call(members(), block) + 1;
      block.remove();
      members().forEach(renumber);
      total.value = members().length;
      updateAddButton();
      (addButton && !addButton.hidden ? addButton : form.querySelector("#personnes")).focus();
      announce("Personne " + number + " retirée du foyer.");
    });
    updateAddButton();
  }

  // Follow-on questions: shown only when the answer calls for them.
  form.querySelectorAll("[data-show-when]").forEach(function (block) {
    var rule = block.getAttribute("data-show-when").split("=");
    var controls = form.querySelectorAll("[name='" + rule[0] + "']");
    var wanted = rule[1].split(",");
    var update = function () {
      var chosen = Array.prototype.some.call(controls, function (control) {
        var on = control.type === "radio" || control.type === "checkbox" ? control.checked : true;
        return on && wanted.indexOf(control.value) !== -1;
      });
      block.hidden = !chosen;
      block.querySelectorAll("input, select, textarea").forEach(function (field) {
        field.disabled = !chosen;
      });
    };
    controls.forEach(function (control) {
      control.addEventListener("change", update);
    });
    update();
  });
})();
