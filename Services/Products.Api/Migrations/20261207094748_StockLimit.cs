using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Products.Api.Migrations
{
    /// <inheritdoc />
    public partial class StockLimit : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Before the limit, stock changes were clamped at int.MaxValue, so a product can be above it. Those counts
            // came from that bug, not from real stock: lower what is available so that on hand meets the limit, and
            // keep every unit held for an order in flight.
            migrationBuilder.Sql(
                """
                UPDATE "Products" SET "AvailableStock" = GREATEST(0, 1000000 - "ReservedStock")
                WHERE "AvailableStock"::bigint + "ReservedStock" > 1000000
                """);
            migrationBuilder.AddCheckConstraint(
                name: "CK_Products_StockLimit",
                table: "Products",
                sql: "\"AvailableStock\"::bigint + \"ReservedStock\" <= 1000000");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropCheckConstraint(
                name: "CK_Products_StockLimit",
                table: "Products");
        }
    }
}
