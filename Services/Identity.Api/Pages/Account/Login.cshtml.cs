using System.ComponentModel.DataAnnotations;
using Identity.Api.Services;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Identity.Api.Pages.Account;

public sealed class LoginModel(ShopSignInManager signIn, TimeProvider timeProvider) : PageModel
{
    [BindProperty]
    public LoginInput Input { get; set; } = new();

    /// <summary>Where to continue after signing in: usually the authorization request that sent the user here.</summary>
    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public List<string> Errors { get; } = [];

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync()
    {
        if (!ModelState.IsValid)
        {
            Errors.AddRange(ModelState.Values.SelectMany(v => v.Errors).Select(e => e.ErrorMessage));
            return Page();
        }

        var email = Input.Email!.Trim();
        var result = await signIn.PasswordSignInAsync(email, Input.Password!, isPersistent: false, lockoutOnFailure: true);
        if (result.Succeeded)
        {
            // Only local addresses: a crafted link must not turn the sign-in page into an open redirect.
            return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl : Url.Content("~/account/logout"));
        }

        Errors.Add(result.IsLockedOut ? await DescribeLockoutAsync(email) : "The e-mail address or the password is wrong.");
        return Page();
    }

    /// <summary>The same for an address with an account and one without: which addresses have one must not show.</summary>
    private async Task<string> DescribeLockoutAsync(string email)
    {
        var end = await signIn.GetLockoutEndAsync(email);
        var minutes = end is { } lockoutEnd ? Math.Max(1, (int)Math.Ceiling((lockoutEnd - timeProvider.GetUtcNow()).TotalMinutes)) : 1;
        return $"This account is locked after too many failed sign-ins. Try again in {minutes} minute{(minutes == 1 ? "" : "s")}.";
    }

    public sealed class LoginInput
    {
        [Required(ErrorMessage = "An e-mail address is required.")]
        public string? Email { get; set; }

        [Required(ErrorMessage = "A password is required.")]
        [DataType(DataType.Password)]
        public string? Password { get; set; }
    }
}
