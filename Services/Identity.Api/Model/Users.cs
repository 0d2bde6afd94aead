namespace Identity.Api.Model;

public sealed record RegisterUserRequest(string? Email, string? Password, string? Name);

public sealed record UserResponse(string Id, string Email, string Name);
