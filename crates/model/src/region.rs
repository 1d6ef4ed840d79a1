/// Every region of the `aws` partition where SES v2 has an endpoint, as the AWS SDK's own
/// endpoint data lists them (botocore's `endpoints.json`, service `email`):
/// `dev/emulator/tests/test_regions.py` holds this list to it, so a region AWS adds shows up as a
/// failing test. A connection is per account and one of these; the dashboard reads them from
/// `GET /v1/regions`. (Other partitions need `arn:aws-…` ARNs the templates do not make.)
pub const SES_REGIONS: [&str; 33] = [
    "af-south-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
];

pub fn is_ses_region(region: &str) -> bool {
    SES_REGIONS.contains(&region)
}
