using Identity.Api.Configuration;
using Identity.Api.Extensions;
using Identity.Api.Infrastructure;
using Identity.Api.Model;
using Identity.Api.Pages.Account;
using Identity.Api.Services;
using Identity.Tests.Keys;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Identity.Tests;

/// <summary>
/// Sign-in on a real PostgreSQL, each attempt with a request scope of its own, as the sign-in page runs it: an address
/// without an account must not be told apart from an account by its answers. Each service provider is a replica.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class SignInLockoutTests(PostgresFixture postgres)
{
    private const int MaxFailedAttempts = 3;
    private const string Account = "ada@example.com";
    private const string Password = "Correct#Horse7";
    private const string NoAccount = "nobody@example.com";
    private const string BeforeFailureTimes = "20261207125112_UnknownAddressFailures";
    private static readonly TimeSpan LockoutTime = TimeSpan.FromMinutes(7);

    [Fact]
    public async Task An_address_without_an_account_gets_the_answers_of_an_account_and_a_wrong_password_up_to_the_same_lockout()
    {
        var ct = Timeout();
        await using var identity = Identity(await postgres.CreateDatabaseAsync(migration: null, ct));
        await CreateAccountAsync(identity);

        for (var attempt = 1; attempt <= MaxFailedAttempts + 1; attempt++)
        {
            var forAccount = await SignInPageAsync(identity, Account, "wrong password");
            var forNoAccount = await SignInPageAsync(identity, NoAccount, "wrong password");

            Assert.Equal(forAccount, forNoAccount);
            Assert.Equal(
                attempt < MaxFailedAttempts
                    ? "The e-mail address or the password is wrong."
                    : "This account is locked after too many failed sign-ins. Try again in 7 minutes.",
                forNoAccount);
        }
    }

    [Fact]
    public async Task Failures_of_an_address_without_an_account_count_at_every_replica_and_lock_it_out_at_every_one()
    {
        var ct = Timeout();
        var connectionString = await postgres.CreateDatabaseAsync(migration: null, ct);
        await using var first = Identity(connectionString);
        await using var second = Identity(connectionString);

        Assert.Equal(SignInResult.Failed, await SignInAsync(first, NoAccount, "wrong"));
        Assert.Equal(SignInResult.Failed, await SignInAsync(second, "Nobody@Example.com", "wrong"));
        Assert.Equal(SignInResult.LockedOut, await SignInAsync(first, NoAccount, "wrong"));

        Assert.Equal(SignInResult.LockedOut, await SignInAsync(second, NoAccount, "any other"));
        await using var scope = second.CreateAsyncScope();
        var end = await scope.ServiceProvider.GetRequiredService<ShopSignInManager>().GetLockoutEndAsync(NoAccount);
        Assert.InRange(end!.Value - DateTimeOffset.UtcNow, LockoutTime - TimeSpan.FromMinutes(1), LockoutTime);
    }

    [Fact]
    public async Task The_password_sent_for_an_address_without_an_account_is_checked_as_an_account_s_is()
    {
        var ct = Timeout();
        var hasher = new CountingHasher();
        await using var identity = Identity(await postgres.CreateDatabaseAsync(migration: null, ct), hasher: hasher);
        await CreateAccountAsync(identity);

        hasher.Verified = 0;
        await SignInAsync(identity, Account, "wrong password");
        var forAccount = hasher.Verified;
        hasher.Verified = 0;
        await SignInAsync(identity, NoAccount, "wrong password");

        Assert.Equal(1, forAccount);
        Assert.Equal(forAccount, hasher.Verified);
    }

    [Fact]
    public async Task An_address_without_an_account_is_locked_for_the_lockout_time_stored_as_a_keyed_hash_and_forgotten_a_day_after()
    {
        var ct = Timeout();
        var clock = new ManualClock(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));
        var connectionString = await postgres.CreateDatabaseAsync(migration: null, ct);
        await using var identity = Identity(connectionString, clock);

        for (var attempt = 1; attempt < MaxFailedAttempts; attempt++)
        {
            Assert.Equal(SignInResult.Failed, await SignInAsync(identity, NoAccount, "wrong"));
        }
        Assert.Equal(SignInResult.LockedOut, await SignInAsync(identity, NoAccount, "wrong"));
        clock.Now += LockoutTime - TimeSpan.FromSeconds(1);
        Assert.Equal(SignInResult.LockedOut, await SignInAsync(identity, NoAccount, "wrong"));
        clock.Now += TimeSpan.FromSeconds(2);
        // As for an account: the lockout starts counting again from zero.
        Assert.Equal(SignInResult.Failed, await SignInAsync(identity, NoAccount, "wrong"));

        var stored = await StoredAsync(connectionString, ct);
        var row = Assert.Single(stored);
        Assert.DoesNotContain("nobody", row.AddressHash, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(UnknownAddressFailure.AddressHashLength, row.AddressHash.Length);

        clock.Now += UnknownAddressLockout.Memory + TimeSpan.FromSeconds(1);
        Assert.Equal(SignInResult.Failed, await SignInAsync(identity, "somebody.else@example.com", "wrong"));
        Assert.DoesNotContain(await StoredAsync(connectionString, ct), r => r.AddressHash == row.AddressHash);
    }

    [Fact]
    public async Task An_account_s_failures_are_forgotten_a_day_after_the_last_one_at_every_replica_as_an_address_without_an_account_s_are()
    {
        var ct = Timeout();
        var clock = ManualClock.AtNow();
        var connectionString = await postgres.CreateDatabaseAsync(migration: null, ct);
        await using var first = Identity(connectionString, clock);
        await using var second = Identity(connectionString, clock);
        await CreateAccountAsync(first);

        for (var attempt = 1; attempt < MaxFailedAttempts; attempt++)
        {
            await FailBothAsync(first, SignInResult.Failed);
        }
        clock.Now += UnknownAddressLockout.Memory + TimeSpan.FromSeconds(1);

        // Counting starts again from one: as many failures again before the lockout.
        for (var attempt = 1; attempt < MaxFailedAttempts; attempt++)
        {
            await FailBothAsync(second, SignInResult.Failed);
        }
        await FailBothAsync(first, SignInResult.LockedOut);
    }

    [Fact]
    public async Task Within_a_day_of_its_last_failure_an_account_s_earlier_failures_still_count_to_the_lockout()
    {
        var ct = Timeout();
        var clock = ManualClock.AtNow();
        await using var identity = Identity(await postgres.CreateDatabaseAsync(migration: null, ct), clock);
        await CreateAccountAsync(identity);

        await FailBothAsync(identity, SignInResult.Failed);
        clock.Now += TimeSpan.FromHours(23);
        for (var attempt = 2; attempt < MaxFailedAttempts; attempt++)
        {
            await FailBothAsync(identity, SignInResult.Failed);
        }
        // More than a day after the first failure, less than a day after the last.
        clock.Now += TimeSpan.FromHours(2);
        await FailBothAsync(identity, SignInResult.LockedOut);
    }

    [Fact]
    public async Task A_replica_that_read_the_account_before_others_counted_failures_counts_its_own_on_top_of_theirs()
    {
        var ct = Timeout();
        var clock = ManualClock.AtNow();
        var connectionString = await postgres.CreateDatabaseAsync(migration: null, ct);
        await using var first = Identity(connectionString, clock);
        await using var second = Identity(connectionString, clock);
        await CreateAccountAsync(first);
        for (var attempt = 1; attempt < MaxFailedAttempts; attempt++)
        {
            Assert.Equal(SignInResult.Failed, await SignInAsync(first, Account, "wrong"));
        }
        // One replica reads the account; a day later another counts failures, starting again from one, up to one short
        // of the lockout.
        await using var slow = second.CreateAsyncScope();
        var slowUsers = slow.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        var readBefore = await slowUsers.FindByNameAsync(Account);
        clock.Now += UnknownAddressLockout.Memory + TimeSpan.FromSeconds(1);
        for (var attempt = 1; attempt < MaxFailedAttempts; attempt++)
        {
            Assert.Equal(SignInResult.Failed, await SignInAsync(first, Account, "wrong"));
        }
        clock.Now += TimeSpan.FromSeconds(1);

        // Its failure is the last one the limit allows: it locks the account (Identity refused it as a stale update).
        Assert.True((await slowUsers.AccessFailedAsync(readBefore!)).Succeeded);

        Assert.True(await slowUsers.IsLockedOutAsync(readBefore!));
        Assert.Equal(SignInResult.LockedOut, await SignInAsync(first, Account, Password));
        await using var stored = PostgresFixture.CreateContext(connectionString);
        var user = await stored.Users.AsNoTracking().SingleAsync(ct);
        Assert.Equal(0, user.AccessFailedCount);
        Assert.Equal(clock.Now, user.LastAccessFailedAt);
        Assert.Equal(clock.Now + LockoutTime, user.LockoutEnd);
    }

    [Fact]
    public async Task Failures_at_the_same_moment_all_count_for_an_account_as_for_an_address_without_one()
    {
        var ct = Timeout();
        var connectionString = await postgres.CreateDatabaseAsync(migration: null, ct);
        var replicas = Enumerable.Range(0, MaxFailedAttempts).Select(_ => Identity(connectionString)).ToList();
        try
        {
            await CreateAccountAsync(replicas[0]);

            // Every replica has read the account before any counts its failure: each would have been a stale update.
            var scopes = replicas.Select(replica => replica.CreateAsyncScope()).ToList();
            var managers = scopes.Select(scope => scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>()).ToList();
            var readFirst = new List<ApplicationUser>();
            foreach (var users in managers)
            {
                readFirst.Add((await users.FindByNameAsync(Account))!);
            }
            for (var i = 0; i < managers.Count; i++)
            {
                Assert.True((await managers[i].AccessFailedAsync(readFirst[i])).Succeeded);
            }
            await Task.WhenAll(Enumerable.Range(0, MaxFailedAttempts).Select(i => SignInAsync(replicas[i], NoAccount, "wrong")));

            Assert.Equal(SignInResult.LockedOut, await SignInAsync(replicas[0], Account, Password));
            Assert.Equal(SignInResult.LockedOut, await SignInAsync(replicas[0], NoAccount, "wrong"));
            foreach (var scope in scopes)
            {
                await scope.DisposeAsync();
            }
        }
        finally
        {
            foreach (var replica in replicas)
            {
                await replica.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Failures_checked_before_a_lockout_began_are_answered_locked_and_do_not_count_towards_the_next()
    {
        var ct = Timeout();
        var clock = ManualClock.AtNow();
        await using var identity = Identity(await postgres.CreateDatabaseAsync(migration: null, ct), clock);
        await CreateAccountAsync(identity);
        // Each failure's answer, in turn: "locked" from the one that reaches the limit on, as for the requests of a burst
        // whose passwords were all checked before the first of them locked the account.
        bool[] expected = [.. Enumerable.Range(1, MaxFailedAttempts + 2).Select(failure => failure >= MaxFailedAttempts)];

        var scopes = Enumerable.Range(0, expected.Length).Select(_ => identity.CreateAsyncScope()).ToList();
        var accountAnswers = new List<bool>();
        var unknownAnswers = new List<bool>();
        try
        {
            var readFirst = new List<(UserManager<ApplicationUser> Users, ApplicationUser Account)>();
            foreach (var scope in scopes)
            {
                var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
                readFirst.Add((users, (await users.FindByNameAsync(Account))!));
            }
            foreach (var (users, account) in readFirst)
            {
                Assert.True((await users.AccessFailedAsync(account)).Succeeded);
                accountAnswers.Add(account.LockoutEnd > clock.Now);
            }
            for (var failure = 0; failure < expected.Length; failure++)
            {
                unknownAnswers.Add(await RecordUnknownAddressFailureAsync(identity));
            }
        }
        finally
        {
            foreach (var scope in scopes)
            {
                await scope.DisposeAsync();
            }
        }

        Assert.Equal(expected, accountAnswers);
        Assert.Equal(expected, unknownAnswers);

        // Once the lockout is over, as many failures again before the next one, for both.
        clock.Now += LockoutTime + TimeSpan.FromSeconds(1);
        for (var failure = 1; failure <= MaxFailedAttempts; failure++)
        {
            await using var scope = identity.CreateAsyncScope();
            var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
            var account = (await users.FindByNameAsync(Account))!;
            Assert.True((await users.AccessFailedAsync(account)).Succeeded);
            Assert.Equal(failure == MaxFailedAttempts, account.LockoutEnd > clock.Now);
            Assert.Equal(failure == MaxFailedAttempts, await RecordUnknownAddressFailureAsync(identity));
        }
    }

    [Fact]
    public async Task An_account_s_failures_counted_before_the_upgrade_are_timed_at_the_upgrade_so_they_are_forgotten_a_day_after_it()
    {
        var ct = Timeout();
        var connectionString = await postgres.CreateDatabaseAsync(BeforeFailureTimes, ct);
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync(ct);
            await using var insert = new NpgsqlCommand(
                """
                INSERT INTO "AspNetUsers" ("Id", "Name", "UserName", "NormalizedUserName", "EmailConfirmed", "PhoneNumberConfirmed", "TwoFactorEnabled", "LockoutEnabled", "AccessFailedCount")
                VALUES ('failing', 'Failing', 'failing@example.com', 'FAILING@EXAMPLE.COM', false, false, false, true, 2),
                       ('never', 'Never', 'never@example.com', 'NEVER@EXAMPLE.COM', false, false, false, true, 0)
                """, connection);
            await insert.ExecuteNonQueryAsync(ct);
        }

        await using (var context = PostgresFixture.CreateContext(connectionString))
        {
            await context.Database.MigrateAsync(ct);
        }

        await using var stored = PostgresFixture.CreateContext(connectionString);
        var users = await stored.Users.AsNoTracking().ToDictionaryAsync(u => u.Id, ct);
        var timed = Assert.NotNull(users["failing"].LastAccessFailedAt);
        Assert.InRange(timed - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(-1), TimeSpan.FromMinutes(1));
        Assert.Null(users["never"].LastAccessFailedAt);
    }

    /// <summary>Identity as the service configures it (<see cref="Extensions.AddSignInLockout"/>), with a lockout of its own.</summary>
    private static ServiceProvider Identity(string connectionString, TimeProvider? clock = null, IPasswordHasher<ApplicationUser>? hasher = null)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(clock ?? TimeProvider.System);
        services.AddSingleton(Options.Create(new IdentityServerSettings { KeyEncryptionSecret = "aGeneratedSecret4SignInTests" }));
        services.AddDbContext<ApplicationDbContext>(options => options.UseNpgsql(connectionString));
        services.AddIdentity<ApplicationUser, IdentityRole>(options =>
            {
                options.Lockout.MaxFailedAccessAttempts = MaxFailedAttempts;
                options.Lockout.DefaultLockoutTimeSpan = LockoutTime;
            })
            .AddEntityFrameworkStores<ApplicationDbContext>()
            .AddSignInLockout();
        if (hasher is not null)
        {
            services.AddSingleton(hasher);
        }

        return services.BuildServiceProvider();
    }

    private static async Task CreateAccountAsync(IServiceProvider identity)
    {
        await using var scope = identity.CreateAsyncScope();
        var user = new ApplicationUser { UserName = Account, Email = Account, Name = "Ada" };
        Assert.True((await scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>().CreateAsync(user, Password)).Succeeded);
    }

    /// <summary>What the sign-in page shows after a post of <paramref name="email"/> and <paramref name="password"/>.</summary>
    private static async Task<string> SignInPageAsync(IServiceProvider identity, string email, string password)
    {
        await using var scope = identity.CreateAsyncScope();
        var page = new LoginModel(scope.ServiceProvider.GetRequiredService<ShopSignInManager>(), TimeProvider.System)
        {
            Input = new LoginModel.LoginInput { Email = email, Password = password },
        };
        await page.OnPostAsync();
        return Assert.Single(page.Errors);
    }

    /// <summary>A wrong password for the account and for the address without one, answered alike.</summary>
    private static async Task FailBothAsync(IServiceProvider identity, SignInResult expected)
    {
        Assert.Equal(expected, await SignInAsync(identity, Account, "wrong"));
        Assert.Equal(expected, await SignInAsync(identity, NoAccount, "wrong"));
    }

    private static async Task<SignInResult> SignInAsync(IServiceProvider identity, string email, string password)
    {
        await using var scope = identity.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<SignInManager<ApplicationUser>>()
            .PasswordSignInAsync(email, password, isPersistent: false, lockoutOnFailure: true);
    }

    private static async Task<bool> RecordUnknownAddressFailureAsync(IServiceProvider identity)
    {
        await using var scope = identity.CreateAsyncScope();
        var address = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>().NormalizeName(NoAccount);
        return await scope.ServiceProvider.GetRequiredService<UnknownAddressLockout>().RecordFailureAsync(address);
    }

    private static async Task<List<UnknownAddressFailure>> StoredAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var context = PostgresFixture.CreateContext(connectionString);
        return await context.UnknownAddressFailures.AsNoTracking().ToListAsync(cancellationToken);
    }

    private static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromMinutes(1)).Token;

    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        /// <summary>
        /// Now, as Identity's own lockout sees it (it reads the system clock), in whole seconds so that times read back
        /// from PostgreSQL (microseconds) compare equal.
        /// </summary>
        public static ManualClock AtNow() => new(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));

        public override DateTimeOffset GetUtcNow() => Now;
    }

    /// <summary>Identity's hasher, counting the passwords it checks.</summary>
    private sealed class CountingHasher : IPasswordHasher<ApplicationUser>
    {
        private readonly PasswordHasher<ApplicationUser> _hasher = new();

        public int Verified { get; set; }

        public string HashPassword(ApplicationUser user, string password) => _hasher.HashPassword(user, password);

        public PasswordVerificationResult VerifyHashedPassword(ApplicationUser user, string hashedPassword, string providedPassword)
        {
            Verified++;
            return _hasher.VerifyHashedPassword(user, hashedPassword, providedPassword);
        }
    }
}
