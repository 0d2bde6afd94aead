using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;

namespace Shop.Dashboard.Components.Layout;

public partial class MainLayout : IDisposable
{
    [Inject]
    private AuthenticationStateProvider AuthenticationStateProvider { get; set; } = default!;

    [Inject]
    private NavigationManager Navigation { get; set; } = default!;

    protected override void OnInitialized() => AuthenticationStateProvider.AuthenticationStateChanged += OnAuthenticationStateChanged;

    /// <summary>
    /// The sign-in ended (signed out in another tab; <c>DashboardAuthenticationStateProvider</c> noticed): a full load
    /// of the page goes through the sign-in check again, which sends the tab to sign in and ends this circuit.
    /// </summary>
    private void OnAuthenticationStateChanged(Task<AuthenticationState> state) =>
        _ = InvokeAsync(async () =>
        {
            if ((await state).User.Identity?.IsAuthenticated != true)
            {
                Navigation.NavigateTo(Navigation.Uri, forceLoad: true);
            }
        });

    public void Dispose() => AuthenticationStateProvider.AuthenticationStateChanged -= OnAuthenticationStateChanged;
}
