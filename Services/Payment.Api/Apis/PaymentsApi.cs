using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Payment.Api.Infrastructure;
using Payment.Api.Model;

namespace Payment.Api.Apis;

public static class PaymentsApi
{
    public static IEndpointRouteBuilder MapPaymentsApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);

        var api = app.MapGroup("api/payment").WithTags("Payments");

        api.MapGet("/payments", GetPaymentsForOrder)
            .WithName("ListPaymentsForOrder")
            .WithSummary("List an order's payments")
            .WithDescription("Every charge and refund recorded for the order, oldest first. A buyer sees only the payments of their own orders " +
                             "(another buyer's order looks like one without payments); admins see every order's.")
            .RequireAuthorization();

        return app;
    }

    public static async Task<Results<Ok<List<PaymentResponse>>, ValidationProblem>> GetPaymentsForOrder(
        Guid? orderId,
        ClaimsPrincipal user,
        PaymentContext context,
        CancellationToken cancellationToken)
    {
        if (orderId is not { } id || id == Guid.Empty)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["orderId"] = ["The orderId query parameter is required, e.g. ?orderId=3f2b8c1e-…."],
            });
        }

        var payments = context.Payments.AsNoTracking().Where(p => p.OrderId == id);
        if (!user.IsInRole(ShopRoles.Admin))
        {
            var buyerId = user.FindFirstValue("sub");
            payments = payments.Where(p => p.BuyerId == buyerId);
        }

        return TypedResults.Ok(await payments
            .OrderBy(p => p.CreatedAt)
            .Select(p => new PaymentResponse(p.Id, p.OrderId, p.Kind, p.Status, p.Amount, p.Currency, p.FailureReason, p.Attempts, p.CreatedAt, p.CompletedAt))
            .ToListAsync(cancellationToken));
    }
}
