//! Which presets a repository probably needs, from the dependencies its
//! code declares (package.json, go.mod, Gemfile, pyproject.toml, Cargo.toml).

use super::detection::{Detection, StackHint};

/// Dependency names (or module paths) that suggest a preset.
const HINTS: &[(&str, &[&str])] = &[
    (
        "postgres",
        &[
            "pg",
            "pg-promise",
            "postgres",
            "psycopg",
            "psycopg2",
            "psycopg2-binary",
            "asyncpg",
            "github.com/lib/pq",
            "github.com/jackc/pgx",
            "tokio-postgres",
        ],
    ),
    (
        "mysql",
        &[
            "mysql",
            "mysql2",
            "mysqlclient",
            "pymysql",
            "aiomysql",
            "github.com/go-sql-driver/mysql",
            "mysql_async",
        ],
    ),
    (
        "redis",
        &[
            "redis",
            "ioredis",
            "bullmq",
            "bull",
            "sidekiq",
            "resque",
            "github.com/redis/go-redis",
            "github.com/go-redis/redis",
        ],
    ),
    (
        "mongodb",
        &[
            "mongodb",
            "mongoose",
            "pymongo",
            "motor",
            "mongoid",
            "mongo",
            "go.mongodb.org/mongo-driver",
        ],
    ),
    (
        "rabbitmq",
        &[
            "amqplib",
            "amqp-connection-manager",
            "pika",
            "aio-pika",
            "bunny",
            "lapin",
            "github.com/rabbitmq/amqp091-go",
            "github.com/streadway/amqp",
        ],
    ),
    (
        "kafka",
        &[
            "kafkajs",
            "kafka-python",
            "confluent-kafka",
            "aiokafka",
            "ruby-kafka",
            "rdkafka",
            "karafka",
            "github.com/segmentio/kafka-go",
            "github.com/ibm/sarama",
            "github.com/shopify/sarama",
            "github.com/confluentinc/confluent-kafka-go",
        ],
    ),
    (
        "localstack",
        &[
            "@aws-sdk/client-s3",
            "@aws-sdk/client-sqs",
            "@aws-sdk/client-sns",
            "@aws-sdk/client-dynamodb",
            "aws-sdk",
            "boto3",
            "aws-sdk-s3",
            "github.com/aws/aws-sdk-go",
            "github.com/aws/aws-sdk-go-v2",
        ],
    ),
    ("minio", &["minio", "github.com/minio/minio-go"]),
    (
        "opensearch",
        &[
            "@opensearch-project/opensearch",
            "opensearch-py",
            "opensearch-ruby",
            "github.com/opensearch-project/opensearch-go",
        ],
    ),
    ("mailpit", &["nodemailer"]),
];

pub(super) fn hints(d: &mut Detection, file: &str, names: &[String]) {
    for (stack, needles) in HINTS {
        let hit = names.iter().find(|n| {
            let n = n.to_ascii_lowercase();
            needles
                .iter()
                .any(|w| n == *w || n.starts_with(&format!("{w}/")))
        });
        if let Some(dep) = hit {
            if !d.stack_hints.iter().any(|h| h.stack == *stack) {
                d.stack_hints.push(StackHint {
                    stack: stack.to_string(),
                    because: format!("{file} uses {dep}"),
                });
            }
        }
    }
}

/// Words of a manifest file, split where a dependency name cannot continue.
pub(super) fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/' | '@')))
        .filter(|t| !t.is_empty())
        .map(String::from)
        .collect()
}
