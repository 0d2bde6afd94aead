using Shop.ServiceDefaults;

namespace Gateway.Tests;

/// <summary>
/// The memory of accepted tokens: found by the exact text only (tokens that share their hashed tail included), never
/// past the time given or a minute, full at its capacity, and emptied of what expired as new tokens come.
/// </summary>
public class AcceptedTokenMemoryTests
{
    private readonly ManualTime _time = new(DateTimeOffset.UtcNow);

    [Fact]
    public void Tokens_that_end_alike_are_still_told_apart_by_their_whole_text()
    {
        var memory = new AcceptedTokenMemory<string>(_time);
        var tail = new string('s', AcceptedTokenMemory<string>.HashedTailLength);
        memory.Remember("header-1." + tail, "user-1", _time.GetUtcNow().AddMinutes(10));
        memory.Remember("header-2." + tail, "user-2", _time.GetUtcNow().AddMinutes(10));

        Assert.True(memory.TryGet("header-1." + tail, out var first));
        Assert.True(memory.TryGet(string.Concat("header-2.", tail), out var second));
        Assert.Equal("user-1", first);
        Assert.Equal("user-2", second);
        Assert.False(memory.TryGet("header-3." + tail, out _));
        Assert.False(memory.TryGet(tail, out _));
        Assert.False(memory.TryGet(null, out _));
    }

    [Fact]
    public void A_token_is_remembered_until_its_expiry_or_for_a_minute_whichever_is_first()
    {
        var memory = new AcceptedTokenMemory<string>(_time);
        memory.Remember("soon", "user-1", _time.GetUtcNow().AddSeconds(20));
        memory.Remember("later", "user-2", _time.GetUtcNow().AddHours(1));
        memory.Remember("expired", "user-3", _time.GetUtcNow().AddSeconds(-1));

        Assert.False(memory.TryGet("expired", out _));
        _time.Advance(TimeSpan.FromSeconds(20));
        Assert.False(memory.TryGet("soon", out _));
        Assert.True(memory.TryGet("later", out _));

        _time.Advance(AcceptedTokenMemory<string>.MaxRememberTime - TimeSpan.FromSeconds(20));
        Assert.False(memory.TryGet("later", out _));
    }

    [Fact]
    public void A_full_memory_takes_new_tokens_again_once_old_ones_expired()
    {
        var memory = new AcceptedTokenMemory<string>(_time);
        var expires = _time.GetUtcNow().AddHours(1);
        for (var i = 0; i < AcceptedTokenMemory<string>.Capacity; i++)
        {
            memory.Remember($"token-{i}", "user", expires);
        }

        memory.Remember("one-too-many", "user", expires);
        Assert.False(memory.TryGet("one-too-many", out _));
        // A token already held is renewed even when full.
        memory.Remember("token-0", "renewed", expires);
        Assert.True(memory.TryGet("token-0", out var renewed));
        Assert.Equal("renewed", renewed);

        _time.Advance(AcceptedTokenMemory<string>.MaxRememberTime);
        memory.Remember("after-a-minute", "user", expires);
        Assert.True(memory.TryGet("after-a-minute", out _));
    }
}
