using System.Text;
using Shop.KafkaBroker.Storage;

namespace Shop.KafkaBroker.Tests.Unit;

public sealed class Crc32CTests
{
    [Fact]
    public void Matches_the_castagnoli_check_value()
    {
        Assert.Equal(0xE3069283u, Crc32C.Compute(Encoding.ASCII.GetBytes("123456789")));
        Assert.Equal(0xE3069283u, Crc32C.ComputeSoftware(Encoding.ASCII.GetBytes("123456789")));
    }

    [Fact]
    public void Hardware_and_software_paths_agree_on_every_length()
    {
        var random = new Random(42);
        for (var length = 0; length < 300; length++)
        {
            var data = new byte[length];
            random.NextBytes(data);
            Assert.Equal(Crc32C.ComputeSoftware(data), Crc32C.Compute(data));
        }
    }

    [Fact]
    public void Appending_in_pieces_equals_one_pass()
    {
        var data = Encoding.UTF8.GetBytes("a record batch split across two buffers");
        var whole = Crc32C.Compute(data);
        var pieces = Crc32C.Append(Crc32C.Compute(data.AsSpan(0, 11)), data.AsSpan(11));
        Assert.Equal(whole, pieces);
    }
}
