// Progressive enhancement only: every form works without this file.
(function () {
  'use strict';
  document.addEventListener('submit', function (event) {
    var form = event.target;
    var question = form && form.getAttribute('data-confirm');
    if (question && !window.confirm(question)) event.preventDefault();
  });

  // Attached files: say at once when there are too many or one is too large, rather than after a long upload.
  function fileProblem(form, group) {
    var box = form.querySelector('[data-file-error="' + group + '"]');
    if (!box) return null;
    var inputs = form.querySelectorAll('input[type="file"][data-file-group="' + group + '"]');
    var count = 0;
    var tooLarge = false;
    for (var i = 0; i < inputs.length; i++) {
      var files = inputs[i].files || [];
      count += files.length;
      for (var j = 0; j < files.length; j++) if (files[j].size > Number(box.getAttribute('data-max-bytes'))) tooLarge = true;
    }
    var message = count > Number(box.getAttribute('data-max-files')) ? box.getAttribute('data-msg-count') : tooLarge ? box.getAttribute('data-msg-size') : '';
    box.textContent = message;
    box.hidden = !message;
    if (!message) return null;
    for (var k = 0; k < inputs.length; k++) if (inputs[k].offsetParent !== null) return inputs[k];
    return inputs[0];
  }
  document.addEventListener('change', function (event) {
    var input = event.target;
    if (input && input.form && input.getAttribute && input.getAttribute('data-file-group')) fileProblem(input.form, input.getAttribute('data-file-group'));
  });
  document.addEventListener('submit', function (event) {
    var boxes = event.target.querySelectorAll ? event.target.querySelectorAll('[data-file-error]') : [];
    for (var i = 0; i < boxes.length; i++) {
      var first = fileProblem(event.target, boxes[i].getAttribute('data-file-error'));
      if (first) {
        event.preventDefault();
        first.focus();
        return;
      }
    }
  });

  // The labels page: a print button (the browser's own print command works without it).
  var printButtons = document.querySelectorAll('[data-print]');
  for (var k = 0; k < printButtons.length; k++) {
    printButtons[k].hidden = false;
    printButtons[k].addEventListener('click', function () { window.print(); });
  }
})();
