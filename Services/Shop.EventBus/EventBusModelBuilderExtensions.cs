using Microsoft.EntityFrameworkCore;

namespace Shop.EventBus;

public static class EventBusModelBuilderExtensions
{
    public const string OutboxTable = "event_bus_outbox";
    public const string InboxTable = "event_bus_inbox";
    public const string DeadLetterTable = "event_bus_dead_letters";

    /// <summary>
    /// Adds the event bus's tables to a service's model (call it in <c>OnModelCreating</c>, then add a migration):
    /// the outbox (<see cref="OutboxMessage"/>), the inbox of processed events (<see cref="InboxMessage"/>) and the
    /// dead letters (<see cref="DeadLetter"/>). They take the model's default schema.
    /// </summary>
    public static ModelBuilder AddEventBusTables(this ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);

        modelBuilder.Entity<OutboxMessage>(outbox =>
        {
            outbox.ToTable(OutboxTable);
            outbox.HasKey(m => m.Sequence);
            outbox.Property(m => m.Sequence).HasColumnName("sequence").UseIdentityByDefaultColumn();
            outbox.Property(m => m.EventId).HasColumnName("event_id");
            outbox.Property(m => m.EventType).HasColumnName("event_type").HasMaxLength(200);
            outbox.Property(m => m.Topic).HasColumnName("topic").HasMaxLength(TopicNames.MaxLength);
            outbox.Property(m => m.PartitionKey).HasColumnName("partition_key").HasMaxLength(200);
            outbox.Property(m => m.Payload).HasColumnName("payload").HasColumnType("json");
            outbox.Property(m => m.TraceParent).HasColumnName("trace_parent").HasMaxLength(55);
            outbox.Property(m => m.TraceState).HasColumnName("trace_state").HasMaxLength(512);
            outbox.Property(m => m.CreatedAt).HasColumnName("created_at");
            outbox.Property(m => m.SentAt).HasColumnName("sent_at");
            outbox.HasIndex(m => m.EventId).IsUnique().HasDatabaseName("ix_event_bus_outbox_event_id");
            // The relay's query walks only pending rows, however many published rows the table keeps.
            outbox.HasIndex(m => m.Sequence).HasFilter("sent_at IS NULL").HasDatabaseName("ix_event_bus_outbox_pending");
            outbox.HasIndex(m => m.SentAt).HasFilter("sent_at IS NOT NULL").HasDatabaseName("ix_event_bus_outbox_sent_at");
        });

        modelBuilder.Entity<InboxMessage>(inbox =>
        {
            inbox.ToTable(InboxTable);
            inbox.HasKey(m => new { m.EventId, m.Handler });
            inbox.Property(m => m.EventId).HasColumnName("event_id");
            inbox.Property(m => m.Handler).HasColumnName("handler").HasMaxLength(300);
            inbox.Property(m => m.EventType).HasColumnName("event_type").HasMaxLength(200);
            inbox.Property(m => m.ProcessedAt).HasColumnName("processed_at");
            inbox.HasIndex(m => m.ProcessedAt).HasDatabaseName("ix_event_bus_inbox_processed_at");
        });

        modelBuilder.Entity<DeadLetter>(deadLetter =>
        {
            deadLetter.ToTable(DeadLetterTable);
            deadLetter.HasKey(d => d.Id);
            deadLetter.Property(d => d.Id).HasColumnName("id").ValueGeneratedNever();
            deadLetter.Property(d => d.DeadLetterTopic).HasColumnName("dead_letter_topic").HasMaxLength(TopicNames.MaxLength);
            deadLetter.Property(d => d.DeadLetterPartition).HasColumnName("dead_letter_partition");
            deadLetter.Property(d => d.DeadLetterOffset).HasColumnName("dead_letter_offset");
            deadLetter.Property(d => d.EventId).HasColumnName("event_id");
            deadLetter.Property(d => d.EventType).HasColumnName("event_type").HasMaxLength(200);
            deadLetter.Property(d => d.OriginTopic).HasColumnName("origin_topic").HasMaxLength(TopicNames.MaxLength);
            deadLetter.Property(d => d.OriginPartition).HasColumnName("origin_partition");
            deadLetter.Property(d => d.OriginOffset).HasColumnName("origin_offset");
            deadLetter.Property(d => d.Key).HasColumnName("key");
            deadLetter.Property(d => d.Payload).HasColumnName("payload");
            deadLetter.Property(d => d.Headers).HasColumnName("headers").HasColumnType("jsonb");
            deadLetter.Property(d => d.Error).HasColumnName("error");
            deadLetter.Property(d => d.ExceptionType).HasColumnName("exception_type").HasMaxLength(500);
            deadLetter.Property(d => d.Handler).HasColumnName("handler").HasMaxLength(300);
            deadLetter.Property(d => d.Attempts).HasColumnName("attempts");
            deadLetter.Property(d => d.FailedAt).HasColumnName("failed_at");
            deadLetter.Property(d => d.ReceivedAt).HasColumnName("received_at");
            deadLetter.Property(d => d.ReplayedAt).HasColumnName("replayed_at");
            deadLetter.Property(d => d.ReplayCount).HasColumnName("replay_count");
            deadLetter.Property(d => d.LastReplayError).HasColumnName("last_replay_error");
            deadLetter.HasIndex(d => new { d.DeadLetterTopic, d.DeadLetterPartition, d.DeadLetterOffset })
                .IsUnique().HasDatabaseName("ix_event_bus_dead_letters_position");
            deadLetter.HasIndex(d => d.FailedAt).HasDatabaseName("ix_event_bus_dead_letters_failed_at");
        });

        return modelBuilder;
    }
}
