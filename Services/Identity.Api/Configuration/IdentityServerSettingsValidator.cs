using Microsoft.Extensions.Options;

namespace Identity.Api.Configuration;

/// <summary>Checks the settings when the host starts, before anything reads the stored keys.</summary>
internal sealed class IdentityServerSettingsValidator : IValidateOptions<IdentityServerSettings>
{
    /// <summary>The AppHost generates 24 random letters and digits (about 140 bits); anything shorter is refused.</summary>
    public const int MinKeyEncryptionSecretLength = 24;

    public static readonly string MissingSecretMessage =
        $"{IdentityServerSettings.SectionName}:KeyEncryptionSecret is not set: it encrypts the server's keys stored in identitydb. " +
        "Run through Shop.AppHost (secret parameter identity-key-encryption-secret, generated once and kept in its user secrets) " +
        $"or set Identity__KeyEncryptionSecret to at least {MinKeyEncryptionSecretLength} random characters.";

    public ValidateOptionsResult Validate(string? name, IdentityServerSettings options)
    {
        ArgumentNullException.ThrowIfNull(options);

        // The value itself is never part of a message.
        var secret = options.KeyEncryptionSecret;
        if (string.IsNullOrWhiteSpace(secret))
        {
            return ValidateOptionsResult.Fail(MissingSecretMessage);
        }

        return secret.Length < MinKeyEncryptionSecretLength
            ? ValidateOptionsResult.Fail(
                $"{IdentityServerSettings.SectionName}:KeyEncryptionSecret has {secret.Length} characters; it needs at least " +
                $"{MinKeyEncryptionSecretLength} random ones, since it alone protects the server's keys stored in identitydb.")
            : ValidateOptionsResult.Success;
    }
}
