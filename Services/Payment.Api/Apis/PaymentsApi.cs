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
            .WithDescription("Every charge and refund recorded for the order, oldest first; empty when there is none. Admins only: payments do not record their buyer yet, so no customer could be shown only their own.")
            .RequireAuthorization(ShopPolicies.Admin);

        return app;
    }

    public static async Task<Results<Ok<List<PaymentResponse>>, ValidationProblem>> GetPaymentsForOrder(
        Guid? orderId,
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

        var payments = await context.Payments
            .Where(p => p.OrderId == id)
            .OrderBy(p => p.CreatedAt)
            .Select(p => new PaymentResponse(p.Id, p.OrderId, p.Kind, p.Status, p.Amount, p.Currency, p.CreatedAt))
            .ToListAsync(cancellationToken);

        return TypedResults.Ok(payments);
    }
}
