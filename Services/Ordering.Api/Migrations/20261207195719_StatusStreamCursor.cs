using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Ordering.Api.Migrations
{
    /// <inheritdoc />
    public partial class StatusStreamCursor : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // The rows already there get this migration's transaction, newer than any of theirs: a client resuming with
            // an id of the old kind (a history id, far below it) is sent them again rather than missing one.
            migrationBuilder.AddColumn<long>(
                name: "TransactionId",
                table: "OrderStatusHistory",
                type: "bigint",
                nullable: false,
                defaultValueSql: "pg_current_xact_id()::text::bigint");

            // The notification carries the stream's resume cursor (CommittedChange), so the live path needs no query.
            migrationBuilder.Sql("""
                CREATE OR REPLACE FUNCTION notify_order_status_changed() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM pg_notify('order_status_changed', json_build_object(
                        'id', NEW."Id",
                        'cursor', pg_snapshot_xmin(pg_current_snapshot())::text::bigint,
                        'orderId', NEW."OrderId",
                        'buyerId', (SELECT "BuyerId" FROM "Orders" WHERE "Id" = NEW."OrderId"),
                        'status', NEW."Status",
                        'reason', left(NEW."Reason", 500),
                        'at', NEW."At")::text);
                    RETURN NULL;
                END $$;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE OR REPLACE FUNCTION notify_order_status_changed() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM pg_notify('order_status_changed', json_build_object(
                        'id', NEW."Id",
                        'orderId', NEW."OrderId",
                        'buyerId', (SELECT "BuyerId" FROM "Orders" WHERE "Id" = NEW."OrderId"),
                        'status', NEW."Status",
                        'reason', left(NEW."Reason", 500),
                        'at', NEW."At")::text);
                    RETURN NULL;
                END $$;
                """);

            migrationBuilder.DropColumn(
                name: "TransactionId",
                table: "OrderStatusHistory");
        }
    }
}
