namespace Products.Api.Model;

public class Product
{
    public int Id { get; set; }

    public required string Name { get; set; }

    public required string Description { get; set; }

    public decimal Price { get; set; }

    public required string Brand { get; set; }

    public required string Category { get; set; }

    public required string PictureFileName { get; set; }

    public int AvailableStock { get; set; }
}
