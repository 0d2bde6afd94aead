using Identity.Api.Model;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Identity.Api.Pages.Account;

/// <summary>
/// Signing out asks for a click (a form post with an antiforgery token), so that no other site can sign a user out
/// with a link; clients sign out through the end-session endpoint instead.
/// </summary>
public sealed class LogoutModel(SignInManager<ApplicationUser> signIn, UserManager<ApplicationUser> users) : PageModel
{
    public string? UserName { get; private set; }

    public async Task OnGetAsync()
    {
        if (signIn.IsSignedIn(User) && await users.GetUserAsync(User) is { } user)
        {
            UserName = user.Email;
        }
    }

    public async Task<IActionResult> OnPostAsync()
    {
        await signIn.SignOutAsync();
        return RedirectToPage();
    }
}
