using System.Net;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Shop.Web.Services;

public sealed record ShippingAddress(string? Street, string? City, string? PostalCode, string? Country);

public sealed record UserProfile(string Id, string Email, string Name, ShippingAddress? ShippingAddress);

public sealed record UpdateProfileRequest(string Name, ShippingAddress? ShippingAddress);

/// <summary>Saving a profile: the saved profile, or the identity service's reasons for refusing it, by field.</summary>
public sealed record ProfileUpdateResult(UserProfile? Profile, IReadOnlyDictionary<string, string[]> Errors);

/// <summary>The signed-in user's profile, read and edited through the gateway with their access token.</summary>
public sealed partial class ProfileService(HttpClient http, ILogger<ProfileService> logger)
{
    private const string MyProfile = "/api/identity/users/me";

    /// <exception cref="ProfileUnavailableException">The gateway or the identity service did not answer.</exception>
    public async Task<UserProfile> GetAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await http.GetFromJsonAsync<UserProfile>(MyProfile, cancellationToken)
                   ?? throw new ProfileUnavailableException("The profile answered with an empty body.");
        }
        catch (Exception exception) when (IsUnavailable(exception))
        {
            LogUnavailable(logger, exception);
            throw new ProfileUnavailableException(exception.Message, exception);
        }
    }

    /// <exception cref="ProfileUnavailableException">The gateway or the identity service did not answer.</exception>
    public async Task<ProfileUpdateResult> UpdateAsync(UpdateProfileRequest request, CancellationToken cancellationToken = default)
    {
        try
        {
            using var response = await http.PutAsJsonAsync(MyProfile, request, cancellationToken);
            if (response.StatusCode == HttpStatusCode.BadRequest
                && await response.Content.ReadFromJsonAsync<ValidationProblem>(cancellationToken) is { Errors: { } errors })
            {
                return new ProfileUpdateResult(null, errors);
            }

            response.EnsureSuccessStatusCode();
            var profile = await response.Content.ReadFromJsonAsync<UserProfile>(cancellationToken)
                          ?? throw new ProfileUnavailableException("The profile answered with an empty body.");
            return new ProfileUpdateResult(profile, new Dictionary<string, string[]>());
        }
        catch (Exception exception) when (IsUnavailable(exception))
        {
            LogUnavailable(logger, exception);
            throw new ProfileUnavailableException(exception.Message, exception);
        }
    }

    private static bool IsUnavailable(Exception exception) =>
        exception is HttpRequestException or TimeoutRejectedException or BrokenCircuitException or System.Text.Json.JsonException;

    private sealed record ValidationProblem(Dictionary<string, string[]>? Errors);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The profile could not be read or saved through the gateway")]
    private static partial void LogUnavailable(ILogger logger, Exception exception);
}

public sealed class ProfileUnavailableException(string message, Exception? innerException = null)
    : Exception(message, innerException);
