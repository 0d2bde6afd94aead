using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Identity.Api.Migrations
{
    /// <inheritdoc />
    public partial class LastAccessFailedAt : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "LastAccessFailedAt",
                table: "AspNetUsers",
                type: "timestamp with time zone",
                nullable: true);

            // Failures counted before the column existed are forgotten a day after this migration, not kept for ever.
            migrationBuilder.Sql("""UPDATE "AspNetUsers" SET "LastAccessFailedAt" = now() WHERE "AccessFailedCount" > 0""");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "LastAccessFailedAt",
                table: "AspNetUsers");
        }
    }
}
