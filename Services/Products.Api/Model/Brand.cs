namespace Products.Api.Model;

public class Brand
{
    public const int NameMaxLength = 100;

    public int Id { get; set; }

    public required string Name { get; set; }
}
