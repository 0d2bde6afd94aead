using Identity.Api.Model;
using Identity.Api.Services;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Identity.Api.Pages.Account;

public sealed class RegisterModel(UserRegistration registration, SignInManager<ApplicationUser> signIn) : PageModel
{
    [BindProperty]
    public RegisterInput Input { get; set; } = new();

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    /// <summary>Every reason the registration was refused, by field, as the registration API reports them.</summary>
    public Dictionary<string, string[]> Errors { get; private set; } = [];

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync()
    {
        var result = await registration.RegisterAsync(new RegisterUserRequest(Input.Email, Input.Password, Input.Name));
        if (result.User is not { } user)
        {
            Errors = result.Errors;
            return Page();
        }

        await signIn.SignInAsync(user, isPersistent: false);
        return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl : Url.Content("~/account/logout"));
    }

    public sealed class RegisterInput
    {
        public string? Name { get; set; }

        public string? Email { get; set; }

        public string? Password { get; set; }
    }
}
