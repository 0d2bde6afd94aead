// Small progressive enhancements for the server-rendered pages. Listeners sit on the document, so they keep working
// after Blazor's enhanced navigation replaces the page's content.

// Forms marked data-drop-empty leave out empty fields, so a catalog address reads ?q=lamp rather than ?q=lamp&brand=&min=.
document.addEventListener("formdata", event => {
    if (!(event.target instanceof HTMLFormElement) || !event.target.hasAttribute("data-drop-empty")) {
        return;
    }

    for (const [name, value] of [...event.formData.entries()]) {
        if (value === "") {
            event.formData.delete(name);
        }
    }
}, true);

// Controls marked data-autosubmit apply their form as soon as they change (a sort order, a filter).
document.addEventListener("change", event => {
    const control = event.target;
    if (control instanceof HTMLElement && control.hasAttribute("data-autosubmit") && control.form) {
        control.form.requestSubmit();
    }
});
