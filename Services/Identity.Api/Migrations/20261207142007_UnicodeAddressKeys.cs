using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Identity.Api.Migrations
{
    /// <inheritdoc />
    public partial class UnicodeAddressKeys : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Accounts are now found by their address in compatibility form (NFKC), upper-cased (UnicodeLookupNormalizer).
            // Keys stored by the upper-casing normalizer before are brought to that form, so those accounts are still
            // found. An account whose new key another account already has (the same address registered twice in two
            // encodings) keeps its old key: it can no longer sign in by its address, and the other account is the one
            // the address reaches.
            migrationBuilder.Sql("""
                UPDATE "AspNetUsers" AS u
                SET "NormalizedUserName" = normalize(u."NormalizedUserName", NFKC),
                    "NormalizedEmail" = normalize(u."NormalizedEmail", NFKC)
                WHERE u."NormalizedUserName" <> normalize(u."NormalizedUserName", NFKC)
                  AND NOT EXISTS (
                      SELECT 1 FROM "AspNetUsers" AS other
                      WHERE other."Id" <> u."Id" AND other."NormalizedUserName" = normalize(u."NormalizedUserName", NFKC));
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // Keys in NFKC still find their accounts' ordinary addresses; nothing to undo.
        }
    }
}
