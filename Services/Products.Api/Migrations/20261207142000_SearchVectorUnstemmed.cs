using Microsoft.EntityFrameworkCore.Migrations;
using NpgsqlTypes;

#nullable disable

namespace Products.Api.Migrations
{
    /// <inheritdoc />
    public partial class SearchVectorUnstemmed : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // The words as written, lower-cased, without English stop words: the simple dictionary, given English's
            // stop word list, for every kind of word (the configuration copied from simple keeps numbers, e-mail
            // addresses and the like as they are).
            migrationBuilder.Sql("CREATE TEXT SEARCH DICTIONARY english_unstemmed (TEMPLATE = pg_catalog.simple, STOPWORDS = english);");
            migrationBuilder.Sql("CREATE TEXT SEARCH CONFIGURATION english_unstemmed (COPY = pg_catalog.simple);");
            migrationBuilder.Sql(
                """
                ALTER TEXT SEARCH CONFIGURATION english_unstemmed
                    ALTER MAPPING FOR asciiword, word, numword, asciihword, hword, numhword, hword_asciipart, hword_part, hword_numpart
                    WITH english_unstemmed;
                """);

            // A generated column's expression cannot be altered before PostgreSQL 17: the column (and its index) is
            // dropped and added again, which computes every product's vector anew.
            migrationBuilder.DropIndex(
                name: "IX_Products_SearchVector",
                table: "Products");

            migrationBuilder.DropColumn(
                name: "SearchVector",
                table: "Products");

            migrationBuilder.AddColumn<NpgsqlTsVector>(
                name: "SearchVector",
                table: "Products",
                type: "tsvector",
                nullable: false,
                computedColumnSql: "setweight(to_tsvector('english', lower(coalesce(\"Name\", '') COLLATE \"und-x-icu\")) || to_tsvector('english_unstemmed', lower(coalesce(\"Name\", '') COLLATE \"und-x-icu\")), 'A') || setweight(to_tsvector('english', lower(coalesce(\"SearchTerms\", '') COLLATE \"und-x-icu\")) || to_tsvector('english_unstemmed', lower(coalesce(\"SearchTerms\", '') COLLATE \"und-x-icu\")), 'B') || setweight(to_tsvector('english', lower(coalesce(\"Description\", '') COLLATE \"und-x-icu\")) || to_tsvector('english_unstemmed', lower(coalesce(\"Description\", '') COLLATE \"und-x-icu\")), 'C')",
                stored: true);

            migrationBuilder.CreateIndex(
                name: "IX_Products_SearchVector",
                table: "Products",
                column: "SearchVector")
                .Annotation("Npgsql:IndexMethod", "GIN");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Products_SearchVector",
                table: "Products");

            migrationBuilder.DropColumn(
                name: "SearchVector",
                table: "Products");

            migrationBuilder.AddColumn<NpgsqlTsVector>(
                name: "SearchVector",
                table: "Products",
                type: "tsvector",
                nullable: false,
                computedColumnSql: "setweight(to_tsvector('english', lower(coalesce(\"Name\", '') COLLATE \"und-x-icu\")), 'A') || setweight(to_tsvector('english', lower(coalesce(\"SearchTerms\", '') COLLATE \"und-x-icu\")), 'B') || setweight(to_tsvector('english', lower(coalesce(\"Description\", '') COLLATE \"und-x-icu\")), 'C')",
                stored: true);

            migrationBuilder.CreateIndex(
                name: "IX_Products_SearchVector",
                table: "Products",
                column: "SearchVector")
                .Annotation("Npgsql:IndexMethod", "GIN");

            migrationBuilder.Sql("DROP TEXT SEARCH CONFIGURATION english_unstemmed;");
            migrationBuilder.Sql("DROP TEXT SEARCH DICTIONARY english_unstemmed;");
        }
    }
}
