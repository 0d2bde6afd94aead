using System.Xml.Linq;
using Products.Api.Pictures;

namespace Products.Tests.Unit;

public class ProductPictureTests
{
    [Fact]
    public void The_picture_is_well_formed_svg_showing_the_name_and_brand()
    {
        var svg = XDocument.Parse(ProductPicture.Render(7, "Summit Down Jacket", "Northridge", "Jackets"));

        XNamespace ns = "http://www.w3.org/2000/svg";
        Assert.Equal(ns + "svg", svg.Root!.Name);
        var texts = svg.Descendants(ns + "text").Select(t => t.Value).ToList();
        Assert.Contains("NORTHRIDGE", texts);
        Assert.Contains("Summit Down Jacket", texts);
        Assert.Contains("#7", texts);
    }

    [Fact]
    public void Markup_in_names_is_text_not_markup()
    {
        var svg = ProductPicture.Render(1, "<script>alert(1)</script> & \"quotes\"", "Basecamp & Co.", "Tents");

        var document = XDocument.Parse(svg);
        Assert.DoesNotContain(document.Descendants(), e => e.Name.LocalName == "script");
        Assert.Contains(document.Descendants().Select(e => e.Value), v => v == "BASECAMP & CO.");
        Assert.Equal("<script>alert(1)</script> & \"quotes\"", document.Root!.Attribute("aria-label")!.Value);
    }

    [Fact]
    public void Characters_xml_cannot_carry_are_dropped() =>
        Assert.NotNull(XDocument.Parse(ProductPicture.Render(1, "Bell\u0007 Tent", "Cairn", "Tents")));

    [Fact]
    public void The_same_product_always_gets_the_same_picture_and_etag()
    {
        var first = ProductPicture.Render(3, "Trail Hammock", "Tidewater", "Tents");
        var second = ProductPicture.Render(3, "Trail Hammock", "Tidewater", "Tents");

        Assert.Equal(first, second);
        Assert.Equal(ProductPicture.ETag(first), ProductPicture.ETag(second));
        Assert.NotEqual(ProductPicture.ETag(first), ProductPicture.ETag(ProductPicture.Render(3, "Trail Hammock XL", "Tidewater", "Tents")));
    }

    [Fact]
    public void Long_names_wrap_on_words_over_at_most_three_lines()
    {
        var lines = ProductPicture.Wrap("Electrolyte Tabs Citrus 20-Pack with extra magnesium and zinc for long days");

        Assert.Equal(3, lines.Count);
        Assert.EndsWith("…", lines[^1]);
        Assert.All(lines[..^1], line => Assert.True(line.Length <= 18, line));
    }

    [Fact]
    public void Unknown_categories_still_get_a_picture() =>
        Assert.NotNull(XDocument.Parse(ProductPicture.Render(1, "Thing", "Brand", "Kayaks")));
}
