namespace Products.Api.Model;

/// <summary>A Development seed that has run once, so it never runs again over what an admin changed since.</summary>
public class SeedHistory
{
    public required string Id { get; set; }

    public DateTimeOffset AppliedAt { get; set; }
}
